// Which factor types this server offers (TWOFOLD_FACTORS), checked wherever one is enrolled or used.
import type { FactorKind } from '../../config/schema.js';
import { TwofoldError } from '../../errors.js';
import type { FlowContext } from '../shared/context.js';

export function requireFactorEnabled(ctx: FlowContext, kind: FactorKind): void {
  if (!ctx.config.factors.has(kind)) {
    throw new TwofoldError('forbidden', `${kind === 'recovery' ? 'Recovery codes are' : `The ${kind} factor is`} not enabled on this server.`);
  }
}
