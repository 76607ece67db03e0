// POST /v1/passkeys/authenticate/options: request options for a passkey sign-in without a
// username (WA-08). allowCredentials is empty — the authenticator offers the discoverable
// credentials it holds for this RP — and user verification is required, so the answer can count as
// two factors. Nothing about any account is read or revealed here.
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { buildAuthenticationOptions, webauthnTimeoutMs } from '../../core/webauthn/ceremonies.js';
import { requireFactorEnabled } from '../factors/factor-types.js';
import type { FlowContext, RequestMeta } from '../shared/context.js';
import { storeSignInChallenge } from './sign-in-challenge.js';

export interface PasskeySignInStart {
  challenge_id: string;
  expires_in: number;
  options: PublicKeyCredentialRequestOptionsJSON;
}

export async function startPasskeySignIn(ctx: FlowContext, _meta: RequestMeta = {}): Promise<PasskeySignInStart> {
  requireFactorEnabled(ctx, 'webauthn');
  const options = await buildAuthenticationOptions(ctx.config.webauthn, []);
  const challengeId = await storeSignInChallenge(ctx, options.challenge);
  return { challenge_id: challengeId, expires_in: webauthnTimeoutMs / 1000, options };
}
