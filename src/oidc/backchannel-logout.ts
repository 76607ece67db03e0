// OpenID Connect Back-Channel Logout 1.0, delivered by Twofold: when a Twofold session ends, every
// app that logged in with it and registered a back-channel logout URI gets a logout token POSTed
// to that URI. The token is the provider's own (its IdToken issued for use "logout": typ
// logout+jwt, signed with Twofold's key, two minutes of life) with the `events` claim, a fresh
// `jti`, `sub` (the Twofold user id) and `sid` (the Twofold session id), and never a nonce.
//
// Delivery runs after the answer of whatever ended the session (background work), each try bounded
// by a timeout, and is retried a few times with growing waits; an app that still does not answer
// 200 or 204 is logged (its client id and the URI's origin — never the token) and given up on: its
// tokens are already revoked, so the logout token only spares it holding a dead session.
import { randomUUID } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { FlowContext } from '../flows/shared/context.js';

export interface BackchannelLogout {
  clientId: string;
  uri: string;
  /** The Twofold user id. */
  sub: string;
  /** The Twofold session id. */
  sid: string;
}

const backchannelLogoutEvent = 'http://schemas.openid.net/event/backchannel-logout';
/** Waits before the first try and each retry: at once, after 2 s, after 10 s more. */
const attemptDelaysMs = [0, 2_000, 10_000] as const;
const attemptTimeoutMs = 5_000;

/** A logout token for the client, issued by the provider with Twofold's current key. */
export async function issueLogoutToken(provider: Provider, logout: BackchannelLogout): Promise<string | undefined> {
  const client = await provider.Client.find(logout.clientId);
  if (client === undefined) return undefined;
  const token = new provider.IdToken({ sub: logout.sub }, { client });
  // Only sub of the account's claims: nothing else about the person travels in a logout token.
  (token as unknown as { mask: Record<string, null> }).mask = { sub: null };
  token.set('events', { [backchannelLogoutEvent]: {} });
  token.set('jti', randomUUID());
  token.set('sid', logout.sid);
  return token.issue({ use: 'logout' });
}

async function attempt(provider: Provider, logout: BackchannelLogout): Promise<'delivered' | 'gone' | string> {
  const logoutToken = await issueLogoutToken(provider, logout);
  if (logoutToken === undefined) return 'gone';
  try {
    const response = await fetch(logout.uri, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: logoutToken }).toString(),
      signal: AbortSignal.timeout(attemptTimeoutMs),
    });
    await response.body?.cancel();
    return response.status === 200 || response.status === 204 ? 'delivered' : `answered ${response.status}`;
  } catch (error) {
    return error instanceof Error && error.name === 'TimeoutError' ? 'timed out' : 'could not connect';
  }
}

/** Sends the logout token in the background, retrying a bounded number of times. */
export function sendBackchannelLogout(ctx: FlowContext, provider: () => Promise<Provider>, logout: BackchannelLogout, tries = 0): void {
  ctx.background.run(
    'oidc.backchannel_logout',
    async () => {
      const outcome = await attempt(await provider(), logout);
      if (outcome === 'delivered' || outcome === 'gone') return;
      if (tries + 1 < attemptDelaysMs.length) {
        sendBackchannelLogout(ctx, provider, logout, tries + 1);
        return;
      }
      ctx.diagnostics.warn({ client_id: logout.clientId, origin: new URL(logout.uri).origin, outcome, tries: tries + 1 }, 'back-channel logout not delivered; given up');
    },
    { delayMs: attemptDelaysMs[tries] ?? 0 },
  );
}
