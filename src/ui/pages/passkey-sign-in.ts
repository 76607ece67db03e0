// Signing in with a passkey alone from the hosted sign-in page: the page script asks
// /sign-in/passkey/options for request options (JSON; the CSRF token in the body, as every page
// POST), runs the ceremony — from the button, or from the username field's autofill (conditional
// UI) — and posts the answer to /sign-in/passkey as a plain form. Both call the API's own flows
// (startPasskeySignIn, completePasskeySignIn): the same challenge rules, budgets and audit events,
// and the session set exactly as after a second factor, then the same return (an application's
// return_to, or the OpenID Provider's interaction that sent the person here).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TwofoldError } from '../../errors.js';
import { completePasskeySignIn, startPasskeySignIn } from '../../flows/passkey-sign-in/index.js';
import { requestMeta } from '../../http/authenticate.js';
import { findWebauthnCredentialById } from '../../store/repositories/webauthn-credentials.js';
import { redirectAfterSignIn } from '../after-sign-in.js';
import { formValue, type PageKit } from '../kit.js';
import { setSignedIn } from '../page-session.js';
import { renderSignInForm } from './sign-in-form.js';

/** What the page says when a passkey did not sign the person in. */
function refusalMessage(error: TwofoldError): string {
  const code: string = error.code;
  if (code === 'invalid_challenge' || code === 'challenge_expired' || code === 'invalid_request') return 'That passkey sign-in expired or could not be read. Try again, or sign in with your password.';
  if (code === 'invalid_passkey') return 'That passkey did not sign you in. It may have been removed from your account, or it works only as a second factor after your password: sign in with your password instead.';
  // Too many attempts, a locked passkey, a busy server: the flow's own words say what to do.
  return error.message;
}

/** The credential of the answer, for a passkey the sign-in refused: its id (base64url), if it has one. */
function credentialIdOf(credential: unknown): string | undefined {
  const id = (credential as { id?: unknown } | null)?.id;
  return typeof id === 'string' && /^[A-Za-z0-9_-]{1,1366}$/.test(id) ? id : undefined;
}

function parsedCredential(request: FastifyRequest): unknown {
  const json = formValue(request, 'credential') ?? '';
  try {
    return JSON.parse(json);
  } catch {
    throw new TwofoldError('invalid_request', 'The passkey answer could not be read.');
  }
}

export function passkeySignInPages(app: FastifyInstance, kit: PageKit): void {
  const { ctx } = kit;
  if (!ctx.config.factors.has('webauthn')) return;

  app.post('/sign-in/passkey/options', async (request, reply) => {
    reply.header('Cache-Control', 'no-store');
    try {
      const started = await startPasskeySignIn(ctx, requestMeta(request));
      return reply.send({ challenge_id: started.challenge_id, options: started.options });
    } catch (error) {
      if (!(error instanceof TwofoldError)) throw error;
      for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
      return reply.code(error.status).send({ code: error.code, message: error.message });
    }
  });

  app.post('/sign-in/passkey', async (request, reply) => {
    let credential: unknown;
    try {
      credential = parsedCredential(request);
      const tokens = await completePasskeySignIn(ctx, { challenge_id: formValue(request, 'challenge_id') ?? '', credential: credential as never }, requestMeta(request));
      setSignedIn(ctx, reply, tokens);
      return redirectAfterSignIn(ctx, request, reply);
    } catch (error) {
      if (!(error instanceof TwofoldError)) throw error;
      const credentialId = credentialIdOf(credential);
      // A passkey this site no longer has (removed, or its account deleted): the browser may stop offering it.
      const unknownCredentialId = credentialId !== undefined && (await findWebauthnCredentialById(ctx.db, credentialId)) === undefined ? credentialId : undefined;
      return kit.render(request, reply, { title: 'Sign in', signedIn: false, status: error.status }, (csrf) => renderSignInForm(ctx, csrf, { username: '', error: refusalMessage(error), unknownCredentialId, passkeyRefused: true }));
    }
  });
}
