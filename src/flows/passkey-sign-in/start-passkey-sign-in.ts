// POST /v1/passkeys/authenticate/options: request options for a passkey sign-in without a
// username (WA-08). allowCredentials is empty — the authenticator offers the discoverable
// credentials it holds for this RP — and user verification is required, so the answer can count as
// two factors. Nothing about any account is read or revealed here. Each challenge is a key in the
// shared store for 5 minutes, asked for by anyone: a client network gets
// TWOFOLD_PASSKEY_CHALLENGES_PER_CLIENT of them per 5 minutes (RC-02), so no one client can fill
// the store (the in-memory one evicts its oldest keys, throttle counters among them).
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { buildAuthenticationOptions, webauthnTimeoutMs } from '../../core/webauthn/ceremonies.js';
import { takeRequestBudgets } from '../budgets/request-budgets.js';
import { requireFactorEnabled } from '../factors/factor-types.js';
import { clientNetworkId } from '../shared/client-network.js';
import type { FlowContext, RequestMeta } from '../shared/context.js';
import { storeSignInChallenge } from './sign-in-challenge.js';

export interface PasskeySignInStart {
  challenge_id: string;
  expires_in: number;
  options: PublicKeyCredentialRequestOptionsJSON;
}

export async function startPasskeySignIn(ctx: FlowContext, meta: RequestMeta = {}): Promise<PasskeySignInStart> {
  requireFactorEnabled(ctx, 'webauthn');
  const network = clientNetworkId(ctx, meta);
  if (network !== undefined) {
    const budget = { scope: 'client' as const, key: `passkey-sign-in:client:${network}`, limit: ctx.config.webauthn.signInChallengesPerClient, windowMs: webauthnTimeoutMs, detail: 'Too many passkey sign-ins were started from this network; try again in a few minutes.' };
    await takeRequestBudgets(ctx, 'passkey_sign_in', [budget], meta);
  }
  const options = await buildAuthenticationOptions(ctx.config.webauthn, []);
  const challengeId = await storeSignInChallenge(ctx, options.challenge);
  return { challenge_id: challengeId, expires_in: webauthnTimeoutMs / 1000, options };
}
