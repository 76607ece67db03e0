// Turning forward-auth on in the routes plugin: the rules file is read (a refused file stops the
// start with its line and reason — there are no previous rules to keep yet) and then watched (a
// refused reload is logged and the rules in force stay); the endpoint routes are added, and the
// pages (sign-in, callback, logout) are handed to the hosted pages' scope.
import type { FastifyInstance } from 'fastify';
import { TwofoldError } from '../../errors.js';
import type { FlowContext } from '../../flows/shared/context.js';
import { createRulesSource, type ReloadResult, type RulesSource } from '../../forward-auth/rules-source.js';
import type { MorePages } from '../../ui/plugin.js';
import { createCookieSessions } from './cookie-sessions.js';
import { forwardAuthEndpoint, type ForwardAuthRuntime } from './endpoint.js';
import { forwardAuthPages } from './pages.js';

/** The rules of each running Twofold (by its context), for a reload on demand (SIGHUP in `twofold serve`). */
const rulesOfContext = new WeakMap<FlowContext, RulesSource>();

/** Re-reads the forward-auth rules file now; undefined when forward-auth is off. A refused file keeps the rules in force. */
export function reloadForwardAuthRules(ctx: FlowContext): Promise<ReloadResult> | undefined {
  return rulesOfContext.get(ctx)?.reload();
}

export async function startForwardAuth(app: FastifyInstance, ctx: FlowContext, options: { pages: boolean }): Promise<{ runtime: ForwardAuthRuntime; pages: MorePages }> {
  if (!options.pages) throw new TwofoldError('invalid_request', 'TWOFOLD_FORWARD_AUTH signs people in with the hosted pages: turn on TWOFOLD_PAGES.');
  const rules = await createRulesSource({
    file: ctx.config.forwardAuth.rulesFile,
    onError: (problem) => ctx.diagnostics.warn({ file: problem.file, line: problem.line, column: problem.column, reason: problem.reason }, 'forward-auth rules file refused; the previous rules stay in force'),
    onReload: (loaded) => ctx.diagnostics.warn({ file: loaded.file, rules: loaded.rules, version: loaded.version }, 'forward-auth rules reloaded'),
  });
  rulesOfContext.set(ctx, rules);
  app.addHook('onClose', async () => {
    rules.close();
    rulesOfContext.delete(ctx);
  });
  const runtime: ForwardAuthRuntime = { ctx, rules, sessions: createCookieSessions(ctx) };
  forwardAuthEndpoint(app, runtime);
  return { runtime, pages: (scope, kit) => forwardAuthPages(scope, kit, runtime) };
}
