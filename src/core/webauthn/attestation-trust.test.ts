import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, type TestPki } from '../../../test/helpers/attestation-ca.js';
import { cborEncode } from '../../../test/helpers/soft-authenticator.js';
import { certificateSha256, findAttestationRoot, isProvenHardwareKey, rootFingerprints } from './attestation-trust.js';

let pki: TestPki;
let rootPem: string;
let leafDer: Buffer;
beforeAll(() => {
  pki = createTestPki();
  const root = pki.root('Unit Test Root');
  rootPem = root.certificate.pem;
  leafDer = root.issueAttestation().certificates[0]!;
});
afterAll(() => pki.close());

const attestationObject = (fmt: string, attStmt: Map<string, Uint8Array | number | Uint8Array[]>) =>
  new Uint8Array(
    cborEncode(
      new Map<string, never>([
        ['fmt', fmt as never],
        ['attStmt', attStmt as never],
        ['authData', new Uint8Array(37) as never],
      ]),
    ),
  );

describe('isProvenHardwareKey()', () => {
  it('JW-11: hwk needs a recorded root that is configured now and a key that cannot leave the device', () => {
    const trusted = new Set(['aa']);
    expect(isProvenHardwareKey({ attestationRootSha256: 'aa', backupEligible: false }, trusted)).toBe(true);
    expect(isProvenHardwareKey({ attestationRootSha256: null, backupEligible: false }, trusted)).toBe(false);
    expect(isProvenHardwareKey({ attestationRootSha256: 'bb', backupEligible: false }, trusted)).toBe(false);
    expect(isProvenHardwareKey({ attestationRootSha256: 'aa', backupEligible: true }, trusted)).toBe(false);
    expect(isProvenHardwareKey({ attestationRootSha256: 'aa', backupEligible: false }, new Set())).toBe(false);
  });
});

describe('certificateSha256() / rootFingerprints()', () => {
  it('is the SHA-256 of the DER in lower-case hex, computed once per configured list', () => {
    const expected = new X509Certificate(rootPem).fingerprint256.replace(/:/g, '').toLowerCase();
    expect(certificateSha256(rootPem)).toBe(expected);
    const roots = [rootPem];
    expect([...rootFingerprints(roots)]).toEqual([expected]);
    expect(rootFingerprints(roots)).toBe(rootFingerprints(roots));
  });
});

describe('findAttestationRoot()', () => {
  it('JW-11: null without configured roots (nothing is decoded), for none, and for a statement without x5c', async () => {
    expect(await findAttestationRoot(new Uint8Array([0xff]), [])).toBeNull();
    expect(await findAttestationRoot(attestationObject('none', new Map()), [rootPem])).toBeNull();
    expect(await findAttestationRoot(attestationObject('packed', new Map([['alg', -7]])), [rootPem])).toBeNull();
  });

  it('JW-11: the root a leaf chains to, and null for a format whose x5c Twofold does not judge', async () => {
    expect(await findAttestationRoot(attestationObject('packed', new Map([['x5c', [leafDer]]])), [rootPem])).toBe(certificateSha256(rootPem));
    expect(await findAttestationRoot(attestationObject('android-safetynet', new Map([['x5c', [leafDer]]])), [rootPem])).toBeNull();
  });

  it('JW-11: null for garbage in x5c (never a throw)', async () => {
    expect(await findAttestationRoot(attestationObject('packed', new Map([['x5c', [new Uint8Array([1, 2, 3])]]])), [rootPem])).toBeNull();
  });
});
