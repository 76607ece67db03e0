// Hardware keys are proven, not claimed (assurance is earned, never asserted: `hwk` needs a
// verified attestation; JW-11 "honest amr"). A passkey is `hwk` only when its registration
// carried an attestation whose certificate chain reaches a root the operator configured
// (TWOFOLD_WEBAUTHN_ATTESTATION_ROOTS) and the attested authenticator says the key cannot leave
// it; every other passkey — a key in a JavaScript variable that sets BE=0 and says "usb", a
// self-attestation, a chain to some other CA — is `swk`. Certificates come from the openssl
// command (test/helpers/attestation-ca.ts); the authenticator is the suite's software one.
import { X509Certificate } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { decodeJwt } from 'jose';
import { sql } from 'kysely';
import { SettingsService } from '@simplewebauthn/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as attestationMigration from '../../src/store/migrations/0007-passkey-attestation.js';
import * as discoverableMigration from '../../src/store/migrations/0018-discoverable-passkeys.js';
import { createVerifier, twofoldAuth, type Verifier } from '../../src/verify/index.js';
import { createTestPki, type TestAttestationIdentity, type TestCertificateAuthority, type TestPki } from '../helpers/attestation-ca.js';
import { bearer, loginForMfaToken, postJson, registerUser, type Registered } from '../helpers/flow.js';
import { startListeningTwofold, type ListeningTwofold } from '../helpers/listening-twofold.js';
import { createSoftAuthenticator, type RegistrationOverrides, type SoftAuthenticator, type SoftAuthenticatorOptions } from '../helpers/soft-authenticator.js';

let pki: TestPki;
let vendorRoot: TestCertificateAuthority;
let otherRoot: TestCertificateAuthority;
let vendorIntermediate: TestCertificateAuthority;
/** A security key's attestation: leaf → the vendor's intermediate → the vendor's root (the configured one). */
let vendorKey: TestAttestationIdentity;
/** No roots configured: the default. */
let plain: ListeningTwofold;
/** TWOFOLD_WEBAUTHN_ATTESTATION_ROOTS = the vendor's root. */
let trusting: ListeningTwofold;
const guards: Array<{ close(): Promise<void> }> = [];

const aaguid = Buffer.from('2fc0579f811347eab116bb5a8db9202a', 'hex');

beforeAll(async () => {
  pki = createTestPki();
  vendorRoot = pki.root('Vendor Attestation Root');
  otherRoot = pki.root('Some Other CA');
  vendorIntermediate = vendorRoot.issueIntermediate('Vendor Attestation CA 1');
  vendorKey = vendorIntermediate.issueAttestation({ aaguid, commonName: 'Vendor Key Series 5' });
  [plain, trusting] = await Promise.all([startListeningTwofold(), startListeningTwofold({ env: { TWOFOLD_WEBAUTHN_ATTESTATION_ROOTS: vendorRoot.certificatePath } })]);
});
afterAll(async () => {
  for (const guard of guards) await guard.close();
  await Promise.all([plain?.close(), trusting?.close()]);
  pki?.close();
});

// --- helpers ------------------------------------------------------------------------------------

/** An authenticator for `t` (its rpId and origin are the listening server's), of the vendor's model (AAGUID). */
function authenticatorFor(t: ListeningTwofold, options: SoftAuthenticatorOptions = {}): SoftAuthenticator {
  return createSoftAuthenticator({ rpId: new URL(t.baseUrl).hostname, origin: t.baseUrl, aaguid, ...options });
}

interface PasskeyRegistration {
  user: Registered;
  factorId: string;
  options: any;
  credentialId: string;
  status: number;
  body: any;
}

/** A new account whose first factor is a passkey of `authenticator`. */
async function registerPasskey(t: ListeningTwofold, authenticator: SoftAuthenticator, overrides: RegistrationOverrides = {}): Promise<PasskeyRegistration> {
  const user = await registerUser(t);
  const enroll = await postJson(t.app, '/v1/factors', { type: 'webauthn' }, bearer(user.mfaToken));
  expect(enroll.statusCode, enroll.body).toBe(201);
  const { factor_id: factorId, challenge_id: challengeId, options } = enroll.json();
  const credential = authenticator.register(options, overrides);
  const confirm = await postJson(t.app, `/v1/factors/${factorId}/verify`, { credential, challenge_id: challengeId }, bearer(user.mfaToken));
  return { user, factorId, options, credentialId: credential.id, status: confirm.statusCode, body: confirm.json() };
}

async function registeredAmr(t: ListeningTwofold, authenticator: SoftAuthenticator, overrides: RegistrationOverrides = {}): Promise<unknown> {
  const registration = await registerPasskey(t, authenticator, overrides);
  expect(registration.status, JSON.stringify(registration.body)).toBe(200);
  return decodeJwt(registration.body.access_token).amr;
}

/** Password, challenge, assertion: the access token of a passkey login (at t's origin, which moves with its port across restarts). */
async function passkeyLogin(t: ListeningTwofold, registration: PasskeyRegistration, authenticator: SoftAuthenticator): Promise<string> {
  const mfaToken = await loginForMfaToken(t, registration.user);
  const challenge = await postJson(t.app, '/v1/mfa/challenge', { factor_id: registration.factorId }, bearer(mfaToken));
  expect(challenge.statusCode, challenge.body).toBe(200);
  const verify = await postJson(t.app, '/v1/mfa/verify', { challenge_id: challenge.json().challenge_id, credential: authenticator.authenticate(challenge.json().options, { origin: t.baseUrl }) }, bearer(mfaToken));
  expect(verify.statusCode, verify.body).toBe(200);
  return verify.json().access_token;
}

/** A resource server of `t` with the README's route for device-bound keys: requireAuth({ amr: ['hwk'] }). */
async function hardwareKeyRoute(t: ListeningTwofold): Promise<(accessToken: string) => Promise<{ status: number; body: any; challenge: string | undefined }>> {
  const verifier: Verifier = createVerifier({ issuer: t.baseUrl, audience: t.config.audience, now: t.clock.now, revocations: false });
  const api: FastifyInstance = Fastify();
  await api.register(twofoldAuth, { verifier });
  api.get('/wire-transfer', { preHandler: api.requireAuth({ acr: 'aal2', amr: ['hwk'] }) }, async (request) => ({ sub: request.auth?.sub }));
  await api.ready();
  guards.push({ close: async () => (await api.close(), verifier.close()) });
  return async (accessToken) => {
    const response = await api.inject({ method: 'GET', url: '/wire-transfer', headers: { authorization: `Bearer ${accessToken}` } });
    return { status: response.statusCode, body: response.json(), challenge: response.headers['www-authenticate'] as string | undefined };
  };
}

async function storedCredential(t: ListeningTwofold, factorId: string) {
  return t.ctx.db.selectFrom('webauthn_credentials').selectAll().where('factor_id', '=', factorId).executeTakeFirstOrThrow();
}

const packed = (identity: TestAttestationIdentity) => ({ format: 'packed' as const, privateKey: identity.privateKey, certificates: identity.certificates });

// --- (1) a key in a JavaScript variable ---------------------------------------------------------

describe('a passkey without a trusted attestation is swk, whatever its flags say', () => {
  it('JW-11: with no roots configured, attestation is not requested and a software key claiming BE=0, usb, cross-platform gets amr [pwd, swk, mfa]', async () => {
    const jsKey = authenticatorFor(plain, { backupEligible: false, attachment: 'cross-platform', transports: ['usb'] });
    const registration = await registerPasskey(plain, jsKey);
    expect(registration.options.attestation).toBe('none');
    expect(registration.status, JSON.stringify(registration.body)).toBe(200);
    expect(decodeJwt(registration.body.access_token)).toMatchObject({ acr: 'aal2', amr: ['pwd', 'swk', 'mfa'] });
    expect(decodeJwt(await passkeyLogin(plain, registration, jsKey))).toMatchObject({ acr: 'aal2', amr: ['pwd', 'swk', 'mfa'] });
    expect(await storedCredential(plain, registration.factorId)).toMatchObject({ attestation_format: 'none', attestation_root_sha256: null, aaguid: null, device_type: 'singleDevice' });
    expect(plain.events.filter((event) => event.type === 'factor.activated' && event.factorId === registration.factorId)).toEqual([expect.objectContaining({ details: { type: 'webauthn', key: 'swk' } })]);
  });

  it("JW-11: twofold/verify's requireAuth({ amr: ['hwk'] }) refuses that key's token with an RFC 9470 challenge", async () => {
    const jsKey = authenticatorFor(plain);
    const registration = await registerPasskey(plain, jsKey);
    const route = await hardwareKeyRoute(plain);
    const refused = await route(await passkeyLogin(plain, registration, jsKey));
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ code: 'insufficient_authentication' });
    expect(refused.challenge).toMatch(/error="insufficient_user_authentication"/);
  });

  it('JW-11: with roots configured too, a software key sending attestation "none" is swk — and the route refuses it', async () => {
    const jsKey = authenticatorFor(trusting);
    const registration = await registerPasskey(trusting, jsKey);
    expect(registration.options.attestation).toBe('direct');
    expect(decodeJwt(registration.body.access_token).amr).toEqual(['pwd', 'swk', 'mfa']);
    expect((await (await hardwareKeyRoute(trusting))(await passkeyLogin(trusting, registration, jsKey))).status).toBe(401);
  });

  it('WA-02: reported transports are a hint, kept only as known names (never stored or echoed as sent)', async () => {
    const jsKey = authenticatorFor(plain, { transports: ['usb', 'nfc', 'usb', 'quantum-entanglement', 'x'.repeat(500)] });
    const registration = await registerPasskey(plain, jsKey);
    expect(registration.status).toBe(200);
    expect(JSON.parse((await storedCredential(plain, registration.factorId)).transports!)).toEqual(['usb', 'nfc']);
    const mfaToken = await loginForMfaToken(plain, registration.user);
    const challenge = (await postJson(plain.app, '/v1/mfa/challenge', { factor_id: registration.factorId }, bearer(mfaToken))).json();
    expect(challenge.options.allowCredentials).toEqual([{ id: registration.credentialId, type: 'public-key', transports: ['usb', 'nfc'] }]);
  });
});

// --- (2) a trusted chain --------------------------------------------------------------------------

describe('a packed attestation chained to a configured root is hwk', () => {
  it('JW-11: registration and every login give amr [pwd, hwk, mfa]; the credential records the format, the root and the AAGUID', async () => {
    const securityKey = authenticatorFor(trusting, { attestation: packed(vendorKey), attachment: 'cross-platform', transports: ['usb'] });
    const registration = await registerPasskey(trusting, securityKey);
    expect(registration.options.attestation).toBe('direct');
    expect(registration.status, JSON.stringify(registration.body)).toBe(200);
    expect(decodeJwt(registration.body.access_token)).toMatchObject({ acr: 'aal2', amr: ['pwd', 'hwk', 'mfa'] });
    const stored = await storedCredential(trusting, registration.factorId);
    expect(stored).toMatchObject({ attestation_format: 'packed', aaguid: '2fc0579f-8113-47ea-b116-bb5a8db9202a' });
    expect(stored.attestation_root_sha256).toBe(new X509Certificate(vendorRoot.certificate.pem).fingerprint256.replace(/:/g, '').toLowerCase());
    expect(trusting.events.filter((event) => event.type === 'factor.activated' && event.factorId === registration.factorId)).toEqual([expect.objectContaining({ details: { type: 'webauthn', key: 'hwk' } })]);

    const accessToken = await passkeyLogin(trusting, registration, securityKey);
    expect(decodeJwt(accessToken)).toMatchObject({ acr: 'aal2', amr: ['pwd', 'hwk', 'mfa'] });
    expect(await (await hardwareKeyRoute(trusting))(accessToken)).toMatchObject({ status: 200, body: { sub: registration.user.userId } });
  });

  it('JW-11: a root among several certificates of one PEM file is trusted too', async () => {
    const bundle = pki.writeFile('bundle.pem', `${otherRoot.certificate.pem}\n${vendorRoot.certificate.pem}`);
    const bundled = await startListeningTwofold({ env: { TWOFOLD_WEBAUTHN_ATTESTATION_ROOTS: `${otherRoot.certificatePath}, ${bundle}` } });
    try {
      expect(bundled.config.webauthn.attestationRoots).toHaveLength(2);
      expect(await registeredAmr(bundled, authenticatorFor(bundled, { attestation: packed(vendorKey) }))).toEqual(['pwd', 'hwk', 'mfa']);
    } finally {
      await bundled.close();
    }
  });

  it('JW-11: an intermediate CA configured as the anchor vouches for a chain that stops below the root (x5c = the leaf alone)', async () => {
    const anchored = await startListeningTwofold({ env: { TWOFOLD_WEBAUTHN_ATTESTATION_ROOTS: vendorIntermediate.certificatePath } });
    try {
      const leafOnly = { ...packed(vendorKey), certificates: vendorKey.certificates.slice(0, 1) };
      expect(await registeredAmr(anchored, authenticatorFor(anchored, { attestation: leafOnly }))).toEqual(['pwd', 'hwk', 'mfa']);
    } finally {
      await anchored.close();
    }
  });

  it('JW-11: library mode: two instances in one process judge by their own roots, even registering at the same moment; the library-wide SettingsService is untouched', async () => {
    const rounds = await Promise.all(
      Array.from({ length: 4 }, () => Promise.all([registeredAmr(trusting, authenticatorFor(trusting, { attestation: packed(vendorKey) })), registeredAmr(plain, authenticatorFor(plain, { attestation: packed(vendorKey) }))])),
    );
    for (const [trusted, untrusted] of rounds) {
      expect(trusted).toEqual(['pwd', 'hwk', 'mfa']);
      expect(untrusted).toEqual(['pwd', 'swk', 'mfa']);
    }
    expect(SettingsService.getRootCertificates({ identifier: 'packed' })).toEqual([]);
  });
});

// --- (3) chains that prove nothing here -------------------------------------------------------------

describe('an attestation that verifies but proves no configured root is swk (a valid passkey, not a proven hardware key)', () => {
  it('JW-11: the same vendor chain on a server with no roots configured', async () => {
    expect(await registeredAmr(plain, authenticatorFor(plain, { attestation: packed(vendorKey) }))).toEqual(['pwd', 'swk', 'mfa']);
  });

  it('JW-11: a chain to a CA that is not configured', async () => {
    const stranger = otherRoot.issueAttestation({ commonName: 'Lookalike Key' });
    const registration = await registerPasskey(trusting, authenticatorFor(trusting, { attestation: packed(stranger) }));
    expect(decodeJwt(registration.body.access_token).amr).toEqual(['pwd', 'swk', 'mfa']);
    expect(await storedCredential(trusting, registration.factorId)).toMatchObject({ attestation_format: 'packed', attestation_root_sha256: null, aaguid: null });
  });

  it('JW-11: a self-signed attestation certificate, and packed self-attestation (no certificate at all)', async () => {
    expect(await registeredAmr(trusting, authenticatorFor(trusting, { attestation: packed(pki.selfSignedAttestation()) }))).toEqual(['pwd', 'swk', 'mfa']);
    expect(await registeredAmr(trusting, authenticatorFor(trusting, { attestation: { format: 'packed-self' } }))).toEqual(['pwd', 'swk', 'mfa']);
  });

  it('JW-11: a vendor leaf presented without the intermediate that links it to the root', async () => {
    const leafOnly = { ...packed(vendorKey), certificates: vendorKey.certificates.slice(0, 1) };
    expect(await registeredAmr(trusting, authenticatorFor(trusting, { attestation: leafOnly }))).toEqual(['pwd', 'swk', 'mfa']);
  });

  it('JW-11: a trusted chain whose attested authenticator data says the key can be synced (BE=1) is swk', async () => {
    const syncing = authenticatorFor(trusting, { attestation: packed(vendorKey), backupEligible: true });
    const registration = await registerPasskey(trusting, syncing);
    expect(decodeJwt(registration.body.access_token).amr).toEqual(['pwd', 'swk', 'mfa']);
    expect(decodeJwt(await passkeyLogin(trusting, registration, syncing)).amr).toEqual(['pwd', 'swk', 'mfa']);
  });

  it('JW-11: a trust root removed from the configuration takes hwk away from the keys it vouched for', async () => {
    const first = await startListeningTwofold({ env: { TWOFOLD_WEBAUTHN_ATTESTATION_ROOTS: vendorRoot.certificatePath } });
    const securityKey = authenticatorFor(first, { attestation: packed(vendorKey) });
    const registration = await registerPasskey(first, securityKey);
    expect(decodeJwt(registration.body.access_token).amr).toEqual(['pwd', 'hwk', 'mfa']);
    await first.stop();
    // The same database, restarted trusting only another CA.
    const restarted = await startListeningTwofold({ restartOf: first, env: { TWOFOLD_WEBAUTHN_ATTESTATION_ROOTS: otherRoot.certificatePath } });
    try {
      expect(decodeJwt(await passkeyLogin(restarted, registration, securityKey)).amr).toEqual(['pwd', 'swk', 'mfa']);
    } finally {
      await restarted.close();
    }
  });
});

// --- (4) a statement that does not verify -------------------------------------------------------------

describe('an attestation statement that does not verify refuses the registration', () => {
  it('WA-02: a tampered attestation signature (trusted chain or not, roots configured or not) → 401 invalid_code, the factor stays pending, nothing stored', async () => {
    for (const [t, attestation] of [
      [trusting, packed(vendorKey)],
      [plain, packed(vendorKey)],
      [trusting, { format: 'packed-self' as const }],
    ] as const) {
      const registration = await registerPasskey(t, authenticatorFor(t, { attestation }), { attestationSignature: 'corrupt' });
      expect(registration.status, JSON.stringify(registration.body)).toBe(401);
      expect(registration.body).toMatchObject({ code: 'invalid_code' });
      expect(registration.body).not.toHaveProperty('access_token');
      expect(await t.ctx.db.selectFrom('webauthn_credentials').select('factor_id').where('factor_id', '=', registration.factorId).execute()).toEqual([]);
      expect(await t.ctx.db.selectFrom('factors').select('status').where('id', '=', registration.factorId).executeTakeFirstOrThrow()).toEqual({ status: 'pending' });
      expect(t.events.filter((event) => event.type === 'webauthn.registration_failed' && event.factorId === registration.factorId)).toHaveLength(1);
    }
  });

  it('WA-02: a vendor certificate used to sign a statement for a key the vendor never saw (signed by another key) is refused', async () => {
    const forged = { format: 'packed' as const, privateKey: pki.selfSignedAttestation().privateKey, certificates: vendorKey.certificates };
    const registration = await registerPasskey(trusting, authenticatorFor(trusting, { attestation: forged }));
    expect(registration.status).toBe(401);
    expect(registration.body).toMatchObject({ code: 'invalid_code' });
  });

  it('WA-02: the attested key is the one stored — a registration whose convenience fields (publicKey, authenticatorData) name a software key cannot make that key hwk', async () => {
    const securityKey = authenticatorFor(trusting, { attestation: packed(vendorKey) });
    const jsKey = authenticatorFor(trusting);
    const user = await registerUser(trusting);
    const enrollment = (await postJson(trusting.app, '/v1/factors', { type: 'webauthn' }, bearer(user.mfaToken))).json();
    const credential = securityKey.register(enrollment.options);
    // The software key makes a credential under the same id; its public key is put where a lazy server would read it.
    const decoy = jsKey.register({ ...enrollment.options, excludeCredentials: [] }, { credentialId: credential.id });
    credential.response.publicKey = decoy.response.publicKey;
    credential.response.authenticatorData = decoy.response.authenticatorData;
    const confirm = await postJson(trusting.app, `/v1/factors/${enrollment.factor_id}/verify`, { credential, challenge_id: enrollment.challenge_id }, bearer(user.mfaToken));
    expect(confirm.statusCode, confirm.body).toBe(200);
    expect(decodeJwt(confirm.json().access_token).amr).toEqual(['pwd', 'hwk', 'mfa']);
    const registration = { user, factorId: enrollment.factor_id, options: enrollment.options, credentialId: credential.id, status: 200, body: confirm.json() };

    const mfaToken = await loginForMfaToken(trusting, user);
    const challenge = (await postJson(trusting.app, '/v1/mfa/challenge', { factor_id: registration.factorId }, bearer(mfaToken))).json();
    const forged = await postJson(trusting.app, '/v1/mfa/verify', { challenge_id: challenge.challenge_id, credential: jsKey.authenticate(challenge.options) }, bearer(mfaToken));
    expect(forged.statusCode).toBe(401);
    expect(forged.json()).toMatchObject({ code: 'invalid_code' });
    expect(decodeJwt(await passkeyLogin(trusting, registration, securityKey)).amr).toEqual(['pwd', 'hwk', 'mfa']);
  });

  it("WA-02: a vendor's certificate presented for another authenticator model (AAGUID) is refused", async () => {
    const otherModel = authenticatorFor(trusting, { attestation: packed(vendorKey), aaguid: Buffer.alloc(16, 0x11) });
    const registration = await registerPasskey(trusting, otherModel);
    expect(registration.status).toBe(401);
    expect(registration.body).toMatchObject({ code: 'invalid_code' });
  });
});

// --- (5) credentials registered before attestation was recorded ---------------------------------------

describe('passkeys registered before this change', () => {
  it('JW-11: a credential stored as the old code stored it (device_type singleDevice, no attestation columns) keeps signing in, as swk — with roots configured too', async () => {
    const first = await startListeningTwofold();
    const oldKey = authenticatorFor(first, { backupEligible: false });
    const registration = await registerPasskey(first, oldKey);
    expect(registration.status).toBe(200);
    // Back to the old table (the three columns dropped; the row as the old code wrote it, device_type
    // from the BE flag, which made it hwk), then the upgrade migration as a deployment runs it.
    const db = first.ctx.db as never;
    await discoverableMigration.down(db);
    await attestationMigration.down(db);
    const oldRow = await sql<Record<string, unknown>>`select * from webauthn_credentials where factor_id = ${registration.factorId}`.execute(first.ctx.db);
    expect(Object.keys(oldRow.rows[0]!).sort()).toEqual(['backed_up', 'created_at', 'credential_id', 'device_type', 'factor_id', 'public_key', 'sign_count', 'transports']);
    expect(oldRow.rows[0]).toMatchObject({ device_type: 'singleDevice' });
    await attestationMigration.up(db);
    await discoverableMigration.up(db);
    await first.stop();

    const upgraded = await startListeningTwofold({ restartOf: first, env: { TWOFOLD_WEBAUTHN_ATTESTATION_ROOTS: vendorRoot.certificatePath } });
    try {
      // WA-07: whether it is discoverable is unknown (null): a second factor only.
      expect(await storedCredential(upgraded, registration.factorId)).toMatchObject({ attestation_format: null, attestation_root_sha256: null, aaguid: null, device_type: 'singleDevice', discoverable: null, locked_at: null });
      const accessToken = await passkeyLogin(upgraded, registration, oldKey);
      expect(decodeJwt(accessToken)).toMatchObject({ acr: 'aal2', amr: ['pwd', 'swk', 'mfa'] });
      expect((await (await hardwareKeyRoute(upgraded))(accessToken)).status).toBe(401);
      // And again: the counter moved forward, nothing else about the row changed.
      expect(decodeJwt(await passkeyLogin(upgraded, registration, oldKey)).amr).toEqual(['pwd', 'swk', 'mfa']);
    } finally {
      await upgraded.close();
    }
  });
});
