// The OpenID Provider signs with Twofold's own current signing key: the private JWK is opened from
// the key ring's row with the secretbox, exactly as the key ring opens it, so an ID token verifies
// against the JWKS Twofold already publishes at /.well-known/jwks.json.
import type { JWK } from 'jose';
import { privateKeyAad } from '../flows/keys/signing-keys.js';
import type { FlowContext } from '../flows/shared/context.js';
import { listSigningKeys } from '../store/repositories/signing-keys.js';

export async function currentPrivateJwk(ctx: FlowContext): Promise<JWK> {
  const current = await ctx.keys.currentKey();
  const row = (await listSigningKeys(ctx.db)).find((candidate) => candidate.kid === current.kid);
  if (row === undefined) throw new Error('the current signing key is not in the database');
  const privateJwk = JSON.parse(ctx.secretBox.open(row.private_ciphertext, privateKeyAad(row.kid))) as JWK;
  return { ...privateJwk, kid: row.kid, alg: row.alg, use: 'sig' };
}
