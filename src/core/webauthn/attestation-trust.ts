// Whether a passkey is a proven hardware key (RFC 8176 `hwk`) or only a key (`swk`). Everything a
// client sends about its authenticator — the BE/BS flags, transports, the attachment, the AAGUID —
// is what the client chose to say: a key held in a JavaScript variable can claim to be a
// device-bound security key. Only an attestation can prove otherwise: a statement signed by a key
// whose certificate chains to a root the operator trusts, over the authenticator data (flags and
// new credential key included) and the ceremony's client data.
//
// @simplewebauthn/server verifies the statement itself (the signature by x5c[0], or for `apple`
// the leaf binding the credential key, plus each format's certificate rules). Its trust roots,
// though, live in a process-global SettingsService keyed by format: setting them per call would
// race between two Twofold instances embedded in one process (each verification awaits between
// reading and using them), and setting them once would make one instance's roots another's. So
// Twofold never touches it: the chain is checked here, per call, against this instance's roots,
// with the library's own validateCertificatePath. The library's defaults (Apple's and Google's roots
// for their formats, and anything an embedding application sets) can only make it refuse a
// statement, never make Twofold say `hwk`.
import { createHash, X509Certificate } from 'node:crypto';
import { convertCertBufferToPEM, decodeAttestationObject, validateCertificatePath } from '@simplewebauthn/server/helpers';

/**
 * Formats whose verified statement is made (or bound) by the key certified in x5c[0], so a chain
 * from x5c[0] to a root vouches for the authenticator that made the credential. `none` and packed
 * self-attestation carry no chain; `android-safetynet` keeps its chain elsewhere and is deprecated.
 */
const chainedFormats: ReadonlySet<string> = new Set(['packed', 'fido-u2f', 'tpm', 'android-key', 'apple']);

/** SHA-256 of a certificate's DER, lower-case hex: how a stored credential names the root it chained to. */
export function certificateSha256(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}

const fingerprintsOfRoots = new WeakMap<readonly string[], ReadonlySet<string>>();

/** The fingerprints of configured roots, computed once per list. */
export function rootFingerprints(roots: readonly string[]): ReadonlySet<string> {
  let fingerprints = fingerprintsOfRoots.get(roots);
  if (fingerprints === undefined) {
    fingerprints = new Set(roots.map(certificateSha256));
    fingerprintsOfRoots.set(roots, fingerprints);
  }
  return fingerprints;
}

/**
 * The fingerprint of the configured root that a verified attestation's certificate chain reaches,
 * or null. Call only after the library verified the statement: this checks the chain, not the
 * signature. Certificate validity is checked by the library against the real time (it takes no clock).
 */
export async function findAttestationRoot(attestationObject: Parameters<typeof decodeAttestationObject>[0], roots: readonly string[]): Promise<string | null> {
  if (roots.length === 0) return null;
  const decoded = decodeAttestationObject(attestationObject);
  if (!chainedFormats.has(decoded.get('fmt'))) return null;
  const x5c = decoded.get('attStmt').get('x5c');
  if (!Array.isArray(x5c) || x5c.length === 0) return null;
  const chain = x5c.map((der) => convertCertBufferToPEM(der));
  // One root at a time, so the credential records which one vouched for it: removing a root from
  // the configuration later takes `hwk` away from the keys it had vouched for.
  for (const root of roots) {
    try {
      await validateCertificatePath(chain, [root]);
      return certificateSha256(root);
    } catch {
      // Not this root (or a malformed, expired or revoked chain): try the next one.
    }
  }
  return null;
}

export interface AttestedKey {
  /** The configured root the registration's attestation chained to, if any. */
  attestationRootSha256: string | null;
  /** BE at registration, as the authenticator data said it. */
  backupEligible: boolean;
}

/**
 * `hwk` needs an attestation chained to a root that is configured *now*, and the attested
 * authenticator data saying the key cannot leave the device (BE=0): an attested authenticator that
 * says its key may be synced is vouching for a key that is not bound to hardware.
 */
export function isProvenHardwareKey(key: AttestedKey, trustedRoots: ReadonlySet<string>): boolean {
  return key.attestationRootSha256 !== null && trustedRoots.has(key.attestationRootSha256) && !key.backupEligible;
}
