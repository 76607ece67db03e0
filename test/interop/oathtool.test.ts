// Interop (OT-01): codes computed by an independent TOTP implementation — Debian's oathtool —
// from nothing but the otpauth URI Twofold hands out are accepted, at confirmation and login.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, loginForMfaToken, postJson, registerUser } from '../helpers/flow.js';
import { commandAvailable, requirement } from '../helpers/requirements.js';
import { startTestTwofold, type TestTwofold } from '../helpers/twofold.js';

const haveOathtool = requirement('oathtool', commandAvailable('oathtool', ['--version']), 'apt-get install -y oathtool');

/** What a person would do: read the URI, give its parameters to oathtool. */
function oathtoolCode(otpauthUri: string, atMs: number): string {
  const url = new URL(otpauthUri);
  const parameters = url.searchParams;
  return execFileSync('oathtool', [
    `--totp=${parameters.get('algorithm')}`,
    `--digits=${parameters.get('digits')}`,
    `--time-step-size=${parameters.get('period')}s`,
    '--base32',
    `--now=@${Math.floor(atMs / 1000)}`,
    parameters.get('secret') ?? '',
  ])
    .toString()
    .trim();
}

describe.runIf(haveOathtool)('oathtool interop', () => {
  let t: TestTwofold;
  beforeAll(async () => {
    t = await startTestTwofold();
  });
  afterAll(async () => t.close());

  it('OT-01: oathtool reproduces the RFC 6238 SHA-1 vector (sanity check of the tool)', () => {
    const output = execFileSync('oathtool', ['--totp=SHA1', '--digits=8', '--base32', '--now=@59', 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ']).toString().trim();
    expect(output).toBe('94287082');
  });

  it('OT-01: codes oathtool computes from the otpauth URI confirm the factor and complete a login', async () => {
    const user = await registerUser(t);
    const uri: string = user.body.totp.otpauth_uri;
    const confirm = await postJson(t.app, `/v1/factors/${user.factorId}/verify`, { code: oathtoolCode(uri, t.clock.now()) }, bearer(user.mfaToken));
    expect(confirm.statusCode, confirm.body).toBe(200);

    for (let login = 0; login < 3; login += 1) {
      t.clock.advanceSeconds(30);
      const mfaToken = await loginForMfaToken(t, user);
      const verify = await postJson(t.app, '/v1/mfa/verify', { code: oathtoolCode(uri, t.clock.now()) }, bearer(mfaToken));
      expect(verify.statusCode, verify.body).toBe(200);
    }
  });

  it('OT-03: an oathtool code from two steps ago is refused', async () => {
    const user = await registerUser(t);
    const uri: string = user.body.totp.otpauth_uri;
    const stale = oathtoolCode(uri, t.clock.now() - 60_000);
    const fresh = oathtoolCode(uri, t.clock.now());
    const confirm = await postJson(t.app, `/v1/factors/${user.factorId}/verify`, { code: stale === fresh ? '000000' : stale }, bearer(user.mfaToken));
    expect(confirm.statusCode).toBe(401);
  });
});
