// A software WebAuthn authenticator (and the bit of browser it needs), written from scratch for
// the passkey tests: P-256 (ES256) keys from node:crypto, a small CBOR encoder, authenticator data
// with the UP/UV/BE/BS/AT flags and a per-credential signature counter, 'none' or 'packed'
// attestation (full, with an x5c certificate chain a test made — see attestation-ca.ts — or self),
// and ES256 signatures over authenticatorData || SHA-256(clientDataJSON) in DER form. It produces
// the standard RegistrationResponseJSON / AuthenticationResponseJSON a browser hands to a web page,
// and lets a test bend any part of a ceremony (origin, rpId, flags, counter, challenge, signature,
// attestation signature) to check that the server refuses it. It is, by design, exactly what an
// attacker can run: a key in a JavaScript variable that says whatever flags it likes. Nothing here
// comes from the code under test.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';

// ---------------------------------------------------------------------------------------------
// CBOR (RFC 8949), encoding only: what COSE keys and attestation objects need.

export type CborValue = number | bigint | string | Uint8Array | CborValue[] | Map<number | string, CborValue>;

function cborHead(majorType: number, argument: number | bigint): Buffer {
  const value = BigInt(argument);
  if (value < 0n) throw new RangeError('CBOR head argument must be non-negative');
  const major = majorType << 5;
  if (value < 24n) return Buffer.from([major | Number(value)]);
  if (value < 0x100n) return Buffer.from([major | 24, Number(value)]);
  if (value < 0x10000n) {
    const head = Buffer.alloc(3);
    head[0] = major | 25;
    head.writeUInt16BE(Number(value), 1);
    return head;
  }
  if (value < 0x100000000n) {
    const head = Buffer.alloc(5);
    head[0] = major | 26;
    head.writeUInt32BE(Number(value), 1);
    return head;
  }
  if (value < 0x10000000000000000n) {
    const head = Buffer.alloc(9);
    head[0] = major | 27;
    head.writeBigUInt64BE(value, 1);
    return head;
  }
  throw new RangeError('CBOR integer out of range');
}

/** Encodes ints (major 0/1), byte strings (2), text strings (3), arrays (4) and maps (5), in the given key order. */
export function cborEncode(value: CborValue): Buffer {
  if (typeof value === 'number' || typeof value === 'bigint') {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new RangeError(`CBOR: ${value} is not an integer`);
    const integer = BigInt(value);
    return integer >= 0n ? cborHead(0, integer) : cborHead(1, -1n - integer);
  }
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([cborHead(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([cborHead(2, value.length), Buffer.from(value)]);
  if (Array.isArray(value)) return Buffer.concat([cborHead(4, value.length), ...value.map(cborEncode)]);
  const parts: Buffer[] = [cborHead(5, value.size)];
  for (const [key, item] of value) parts.push(cborEncode(key), cborEncode(item));
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------
// WebAuthn structures.

export const authenticatorFlags = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40, ED: 0x80 } as const;

/** COSE algorithm identifiers this authenticator can make keys for. */
export type SoftAlgorithm = -7 | -35;

const algorithms: Record<SoftAlgorithm, { curve: 'P-256' | 'P-384'; coseCurve: number; hash: 'sha256' | 'sha384' }> = {
  [-7]: { curve: 'P-256', coseCurve: 1, hash: 'sha256' }, // ES256
  [-35]: { curve: 'P-384', coseCurve: 2, hash: 'sha384' }, // ES384
};

export const sha256 = (data: Uint8Array | string): Buffer => createHash('sha256').update(data).digest();
export const b64url = (data: Uint8Array): string => Buffer.from(data).toString('base64url');
export const fromB64url = (text: string): Buffer => Buffer.from(text, 'base64url');

/** A COSE_Key for an EC2 public key: {1: kty EC2, 3: alg, -1: crv, -2: x, -3: y}. */
export function coseEc2PublicKey(publicKey: KeyObject, alg: SoftAlgorithm): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  return cborEncode(
    new Map<number, CborValue>([
      [1, 2],
      [3, alg],
      [-1, algorithms[alg].coseCurve],
      [-2, fromB64url(jwk.x!)],
      [-3, fromB64url(jwk.y!)],
    ]),
  );
}

export interface AuthenticatorDataInput {
  rpId: string;
  flags: number;
  signCount: number;
  attested?: { aaguid: Uint8Array; credentialId: Uint8Array; cosePublicKey: Uint8Array };
}

/** rpIdHash (32) | flags (1) | signCount (4, big-endian) | [AAGUID (16) | L (2) | credentialId (L) | COSE key]. */
export function buildAuthenticatorData(input: AuthenticatorDataInput): Buffer {
  const head = Buffer.alloc(37);
  sha256(input.rpId).copy(head, 0);
  head[32] = input.flags & 0xff;
  head.writeUInt32BE(input.signCount >>> 0, 33);
  if (input.attested === undefined) return head;
  const { aaguid, credentialId, cosePublicKey } = input.attested;
  if (aaguid.length !== 16) throw new RangeError('AAGUID must be 16 bytes');
  const length = Buffer.alloc(2);
  length.writeUInt16BE(credentialId.length, 0);
  return Buffer.concat([head, Buffer.from(aaguid), length, Buffer.from(credentialId), Buffer.from(cosePublicKey)]);
}

export interface ClientData {
  type: string;
  challenge: string;
  origin: string;
  crossOrigin: boolean;
}

/** The exact bytes a browser would produce (member order as in the spec's serialization). */
export function clientDataJSON(data: ClientData): Buffer {
  return Buffer.from(JSON.stringify({ type: data.type, challenge: data.challenge, origin: data.origin, crossOrigin: data.crossOrigin }), 'utf8');
}

/** DER ECDSA-Sig-Value with r = s = 0 (a "psychic signature", CVE-2022-21449). */
export const zeroDerSignature = Buffer.from([0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00]);

// ---------------------------------------------------------------------------------------------
// The authenticator.

export interface SoftAuthenticatorOptions {
  /** The RP ID the authenticator (and the "browser" in front of it) uses: default "twofold.test". */
  rpId?: string;
  /** The web origin the "browser" reports in clientDataJSON: default "http://twofold.test". */
  origin?: string;
  /** BE flag: a synced (multi-device) passkey when true; device-bound when false (default). */
  backupEligible?: boolean;
  /** BS flag for backup-eligible credentials (default: true when backupEligible). */
  backedUp?: boolean;
  /** Whether the authenticator performs user verification (UV flag): default true. */
  userVerification?: boolean;
  /** An authenticator that does not implement a counter always reports 0: default true. */
  countsSignatures?: boolean;
  /** Key algorithm for new credentials: -7 ES256 (default) or -35 ES384. */
  algorithm?: SoftAlgorithm;
  aaguid?: Uint8Array;
  transports?: string[];
  attachment?: 'platform' | 'cross-platform';
  /** The attestation statement of its registrations: 'none' by default. */
  attestation?: SoftAttestation;
  /** Whether it can store discoverable (resident) credentials: default true. */
  residentKeys?: boolean;
  /** Whether its "browser" answers the credProps extension when asked: default true. */
  reportsCredProps?: boolean;
}

/**
 * 'packed' full attestation signs authenticatorData || SHA-256(clientDataJSON) with an attestation
 * key whose certificate (leaf first, then intermediates, DER) goes in x5c; 'packed-self' signs it
 * with the new credential's own key and carries no certificate.
 */
export type SoftAttestation = { format: 'none' } | { format: 'packed'; privateKey: KeyObject; certificates: Uint8Array[] } | { format: 'packed-self' };

/** Per-ceremony deviations a test asks for (they apply to that one response only). */
export interface CeremonyOverrides {
  /** clientDataJSON.origin. */
  origin?: string;
  /** The RP ID hashed into authenticatorData (the browser/authenticator otherwise use their own). */
  rpId?: string;
  /** clientDataJSON.challenge (base64url), instead of the one in the options. */
  challenge?: string;
  /** clientDataJSON.type, e.g. "webauthn.create" in an assertion. */
  type?: string;
  /** UP flag (default true). */
  userPresent?: boolean;
  /** UV flag (default: the authenticator's userVerification). */
  userVerified?: boolean;
  /** BE / BS flags for this response. */
  backupEligible?: boolean;
  backedUp?: boolean;
}

export interface RegistrationOverrides extends CeremonyOverrides {
  /** Use this credential id (base64url) instead of a random one — e.g. someone else's (WA-06). */
  credentialId?: string;
  /** Create the credential even if excludeCredentials names one this authenticator holds. */
  ignoreExcludeCredentials?: boolean;
  /** The signature counter reported at registration (default: 0). */
  signCount?: number;
  /** Create a key of the authenticator's algorithm even if pubKeyCredParams does not offer it. */
  ignorePubKeyCredParams?: boolean;
  /** The attestation of this registration only. */
  attestation?: SoftAttestation;
  /** Flip a bit of the attestation statement's signature. */
  attestationSignature?: 'corrupt';
}

export interface AuthenticationOverrides extends CeremonyOverrides {
  /** Sign with this credential (base64url id) even if allowCredentials does not list it. */
  useCredential?: string;
  /** The id/rawId reported in the response (default: the signing credential's). */
  claimedId?: string;
  /** The signature counter in authenticatorData for this assertion only (the stored counter is untouched). */
  signCount?: number;
  /** Break the signature: flip a bit ("corrupt"), r = s = 0 ("zero"), or raw r||s instead of DER ("raw"). */
  signature?: 'corrupt' | 'zero' | 'raw';
}

export interface SoftCredential {
  id: string;
  rpId: string;
  userHandle: string | undefined;
  algorithm: SoftAlgorithm;
  privateKey: KeyObject;
  publicKey: KeyObject;
  signCount: number;
  backupEligible: boolean;
  backedUp: boolean;
  /** A discoverable (resident) credential: offered when allowCredentials is empty. */
  discoverable: boolean;
}

export interface SoftAuthenticator {
  readonly rpId: string;
  readonly origin: string;
  /** navigator.credentials.create(): a new credential and its RegistrationResponseJSON ('none' attestation). */
  register(options: PublicKeyCredentialCreationOptionsJSON, overrides?: RegistrationOverrides): RegistrationResponseJSON;
  /** navigator.credentials.get(): an assertion by a credential listed in allowCredentials. */
  authenticate(options: PublicKeyCredentialRequestOptionsJSON, overrides?: AuthenticationOverrides): AuthenticationResponseJSON;
  /** The credentials this authenticator holds, oldest first. */
  credentials(): SoftCredential[];
  credential(id: string): SoftCredential;
  /** The id of the most recently created credential. */
  lastCredentialId(): string;
  signCount(credentialId: string): number;
  /** Sets the stored counter; the next assertion reports value + 1. */
  setSignCount(credentialId: string, value: number): void;
}

export class SoftAuthenticatorError extends Error {
  constructor(
    readonly domException: 'NotAllowedError' | 'InvalidStateError' | 'SecurityError' | 'NotSupportedError',
    message: string,
  ) {
    super(`${domException}: ${message}`);
  }
}

/** attStmt of 'none' ({}) or 'packed' ({alg, sig[, x5c]}), signing what the spec says it signs. */
function attestationStatement(
  attestation: SoftAttestation,
  signed: Buffer,
  credential: { privateKey: KeyObject; algorithm: SoftAlgorithm },
  tamper: 'corrupt' | undefined,
): Map<string, CborValue> {
  if (attestation.format === 'none') return new Map();
  const [key, alg] = attestation.format === 'packed' ? [attestation.privateKey, -7 as const] : [credential.privateKey, credential.algorithm];
  const signature = sign(algorithms[alg].hash, signed, { key, dsaEncoding: 'der' });
  if (tamper === 'corrupt') signature[signature.length - 1]! ^= 0x01;
  const statement = new Map<string, CborValue>([
    ['alg', alg],
    ['sig', signature],
  ]);
  if (attestation.format === 'packed') statement.set('x5c', attestation.certificates.map((der) => new Uint8Array(der)));
  return statement;
}

export function createSoftAuthenticator(options: SoftAuthenticatorOptions = {}): SoftAuthenticator {
  const rpId = options.rpId ?? 'twofold.test';
  const origin = options.origin ?? 'http://twofold.test';
  const backupEligible = options.backupEligible ?? false;
  const backedUp = backupEligible && (options.backedUp ?? true);
  const userVerification = options.userVerification ?? true;
  const countsSignatures = options.countsSignatures ?? true;
  const algorithm = options.algorithm ?? -7;
  const aaguid = options.aaguid ?? new Uint8Array(16);
  const transports = options.transports ?? ['internal'];
  const attachment = options.attachment ?? 'platform';
  const defaultAttestation = options.attestation ?? { format: 'none' };
  const residentKeys = options.residentKeys ?? true;
  const reportsCredProps = options.reportsCredProps ?? true;
  const store = new Map<string, SoftCredential>();
  let newest: string | undefined;

  const find = (id: string): SoftCredential => {
    const credential = store.get(id);
    if (credential === undefined) throw new SoftAuthenticatorError('NotAllowedError', `this authenticator holds no credential ${id}`);
    return credential;
  };

  const flagsFor = (overrides: CeremonyOverrides, defaults: { be: boolean; bs: boolean }, attested: boolean): number => {
    let flags = 0;
    if (overrides.userPresent ?? true) flags |= authenticatorFlags.UP;
    if (overrides.userVerified ?? userVerification) flags |= authenticatorFlags.UV;
    if (overrides.backupEligible ?? defaults.be) flags |= authenticatorFlags.BE;
    if (overrides.backedUp ?? defaults.bs) flags |= authenticatorFlags.BS;
    if (attested) flags |= authenticatorFlags.AT;
    return flags;
  };

  return {
    rpId,
    origin,

    register(creation, overrides = {}) {
      // What the browser checks before the authenticator is even asked.
      if (creation.rp.id !== undefined && creation.rp.id !== rpId) throw new SoftAuthenticatorError('SecurityError', `rp.id ${creation.rp.id} is not ${rpId}`);
      if (!overrides.ignorePubKeyCredParams && !creation.pubKeyCredParams.some((param) => param.type === 'public-key' && param.alg === algorithm)) {
        throw new SoftAuthenticatorError('NotSupportedError', `the relying party does not accept algorithm ${algorithm}`);
      }
      if (!overrides.ignoreExcludeCredentials && (creation.excludeCredentials ?? []).some((excluded) => store.has(excluded.id))) {
        throw new SoftAuthenticatorError('InvalidStateError', 'this authenticator already holds an excluded credential');
      }
      if (creation.authenticatorSelection?.userVerification === 'required' && !userVerification && overrides.userVerified === undefined) {
        // A browser would refuse; tests that want UV=0 on the wire say so with userVerified: false.
        throw new SoftAuthenticatorError('NotAllowedError', 'user verification required but not supported');
      }

      const residentKey = creation.authenticatorSelection?.residentKey ?? (creation.authenticatorSelection?.requireResidentKey === true ? 'required' : 'discouraged');
      if (residentKey === 'required' && !residentKeys) throw new SoftAuthenticatorError('NotSupportedError', 'this authenticator cannot store discoverable credentials');
      const discoverable = residentKeys && residentKey !== 'discouraged';

      const { curve } = algorithms[algorithm];
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
      const rawId = overrides.credentialId === undefined ? randomBytes(32) : fromB64url(overrides.credentialId);
      const id = b64url(rawId);
      const signCount = overrides.signCount ?? 0;
      const credential: SoftCredential = {
        id,
        rpId,
        userHandle: creation.user.id,
        algorithm,
        privateKey,
        publicKey,
        signCount,
        backupEligible,
        backedUp,
        discoverable,
      };

      const authData = buildAuthenticatorData({
        rpId: overrides.rpId ?? rpId,
        flags: flagsFor(overrides, { be: backupEligible, bs: backedUp }, true),
        signCount,
        attested: { aaguid, credentialId: rawId, cosePublicKey: coseEc2PublicKey(publicKey, algorithm) },
      });
      const clientData = clientDataJSON({ type: overrides.type ?? 'webauthn.create', challenge: overrides.challenge ?? creation.challenge, origin: overrides.origin ?? origin, crossOrigin: false });
      const attestation = overrides.attestation ?? defaultAttestation;
      const attestationObject = cborEncode(
        new Map<string, CborValue>([
          ['fmt', attestation.format === 'none' ? 'none' : 'packed'],
          ['attStmt', attestationStatement(attestation, Buffer.concat([authData, sha256(clientData)]), { privateKey, algorithm }, overrides.attestationSignature)],
          ['authData', authData],
        ]),
      );

      store.set(id, credential);
      newest = id;
      return {
        id,
        rawId: id,
        type: 'public-key',
        response: {
          clientDataJSON: b64url(clientData),
          attestationObject: b64url(attestationObject),
          authenticatorData: b64url(authData),
          transports,
          publicKeyAlgorithm: algorithm,
          publicKey: b64url(publicKey.export({ format: 'der', type: 'spki' })),
        },
        // credProps (WebAuthn §10.1.3): the browser says whether it made a discoverable credential.
        clientExtensionResults: creation.extensions?.credProps === true && reportsCredProps ? { credProps: { rk: discoverable } } : {},
        authenticatorAttachment: attachment,
      };
    },

    authenticate(request, overrides = {}) {
      if (request.rpId !== undefined && request.rpId !== rpId) throw new SoftAuthenticatorError('SecurityError', `rpId ${request.rpId} is not ${rpId}`);
      if (request.userVerification === 'required' && !userVerification && overrides.userVerified === undefined) {
        throw new SoftAuthenticatorError('NotAllowedError', 'user verification required but not supported');
      }
      let credential: SoftCredential;
      if (overrides.useCredential !== undefined) {
        credential = find(overrides.useCredential);
      } else {
        const allowed = request.allowCredentials ?? [];
        // Without allowCredentials only discoverable credentials can be offered (a username-less sign-in).
        const usable = allowed.length === 0 ? [...store.values()].filter((held) => held.rpId === rpId && held.discoverable) : allowed.map((listed) => store.get(listed.id)).filter((held) => held !== undefined);
        if (usable[0] === undefined) throw new SoftAuthenticatorError('NotAllowedError', 'no credential of this authenticator is allowed');
        credential = usable[0];
      }

      let signCount: number;
      if (overrides.signCount !== undefined) {
        signCount = overrides.signCount;
      } else if (countsSignatures) {
        credential.signCount += 1;
        signCount = credential.signCount;
      } else {
        signCount = 0;
      }

      const authData = buildAuthenticatorData({
        rpId: overrides.rpId ?? credential.rpId,
        flags: flagsFor(overrides, { be: credential.backupEligible, bs: credential.backedUp }, false),
        signCount,
      });
      const clientData = clientDataJSON({ type: overrides.type ?? 'webauthn.get', challenge: overrides.challenge ?? request.challenge, origin: overrides.origin ?? origin, crossOrigin: false });
      const signed = Buffer.concat([authData, sha256(clientData)]);
      const hash = algorithms[credential.algorithm].hash;
      let signature: Buffer;
      if (overrides.signature === 'zero') {
        signature = zeroDerSignature;
      } else if (overrides.signature === 'raw') {
        signature = sign(hash, signed, { key: credential.privateKey, dsaEncoding: 'ieee-p1363' });
      } else {
        signature = sign(hash, signed, { key: credential.privateKey, dsaEncoding: 'der' });
        if (overrides.signature === 'corrupt') signature[signature.length - 1]! ^= 0x01;
      }

      const id = overrides.claimedId ?? credential.id;
      return {
        id,
        rawId: id,
        type: 'public-key',
        response: {
          clientDataJSON: b64url(clientData),
          authenticatorData: b64url(authData),
          signature: b64url(signature),
          ...(credential.userHandle === undefined ? {} : { userHandle: credential.userHandle }),
        },
        clientExtensionResults: {},
        authenticatorAttachment: attachment,
      };
    },

    credentials: () => [...store.values()],
    credential: find,
    lastCredentialId() {
      if (newest === undefined) throw new Error('this authenticator has not created a credential yet');
      return newest;
    },
    signCount: (credentialId) => find(credentialId).signCount,
    setSignCount(credentialId, value) {
      find(credentialId).signCount = value;
    },
  };
}
