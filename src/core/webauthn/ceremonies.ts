// Passkey ceremonies over @simplewebauthn/server (WA-01..WA-06). The relying party is Twofold's
// public URL (rpID = its host name, origin = its origin); user verification (a PIN or biometrics,
// whichever the device asks for — Twofold cannot tell which) is asked for at registration and at
// every login, and the verified UV flag is returned for the flows to require (a passkey sign-in
// may accept its absence as one factor, if the operator says so). Registration asks for a
// discoverable credential (a resident key) and the credProps extension. Attestation is requested ('direct') only when the operator configured roots to
// judge it by; otherwise 'none', so no device data is collected. A statement that does not verify
// refuses the registration; one that verifies but chains to no configured root leaves a valid
// passkey that is not a proven hardware key (attestation-trust.ts). Results are plain values: the
// flows decide.
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { findAttestationRoot } from './attestation-trust.js';

export interface RelyingParty {
  rpId: string;
  rpName: string;
  origins: string[];
  /** PEM roots an attestation must chain to; empty: attestation is not requested. */
  attestationRoots: readonly string[];
}

export interface StoredCredential {
  credentialId: string;
  publicKey: string;
  signCount: number;
  transports: string[];
}

export const webauthnTimeoutMs = 5 * 60 * 1000;

export function buildRegistrationOptions(
  rp: RelyingParty,
  user: { id: string; username: string },
  existing: ReadonlyArray<{ credentialId: string; transports: string[] }>,
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: rp.rpName,
    rpID: rp.rpId,
    userName: user.username,
    userDisplayName: user.username,
    userID: new TextEncoder().encode(user.id),
    timeout: webauthnTimeoutMs,
    attestationType: rp.attestationRoots.length > 0 ? 'direct' : 'none',
    excludeCredentials: existing.map((credential) => ({ id: credential.credentialId, transports: credential.transports })),
    // Discoverable (a resident key), so the passkey can later sign in alone, offered by the
    // authenticator without a username; credProps tells whether the client really made one.
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    extensions: { credProps: true },
    // EdDSA, ES256, RS256: what platform authenticators and security keys offer.
    supportedAlgorithmIDs: [-8, -7, -257],
  });
}

export interface VerifiedRegistration {
  credentialId: string;
  publicKey: string;
  signCount: number;
  /** BE and BS as the authenticator data said them: vouched for only by a trusted attestation. */
  backupEligible: boolean;
  backedUp: boolean;
  /** What the client reported; used only as a hint in allowCredentials. */
  transports: string[];
  /** The format of the attestation statement that verified ('none', 'packed', …). */
  attestationFormat: string;
  /** The authenticator model (AAGUID), only when a trusted attestation vouched for it; else null. */
  aaguid: string | null;
  /** The configured root the verified attestation chains to, or null. */
  attestationRootSha256: string | null;
  /**
   * A discoverable credential: credProps.rk when the client reported it, else true — it was
   * created under residentKey "required", which a conforming client does not answer otherwise.
   */
  discoverable: boolean;
}

export type RegistrationCheck = ({ ok: true } & VerifiedRegistration) | { ok: false; reason: string };

// WebAuthn's AuthenticatorTransport values. The client's list is a hint for its own later prompts
// (allowCredentials), never evidence; anything else it sends is dropped rather than stored and echoed.
const transportNames: ReadonlySet<string> = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);

export function knownTransports(reported: unknown): string[] {
  if (!Array.isArray(reported)) return [];
  return [...new Set(reported.filter((name): name is string => typeof name === 'string' && transportNames.has(name)))];
}

export async function checkRegistration(rp: RelyingParty, response: RegistrationResponseJSON, expectedChallenge: string): Promise<RegistrationCheck> {
  try {
    const result = await verifyRegistrationResponse({
      response,
      expectedChallenge,
      expectedOrigin: rp.origins,
      expectedRPID: rp.rpId,
      requireUserVerification: true,
      supportedAlgorithmIDs: [-8, -7, -257],
    });
    if (!result.verified) return { ok: false, reason: 'registration not verified' };
    const info = result.registrationInfo;
    const attestationRootSha256 = await findAttestationRoot(info.attestationObject, rp.attestationRoots);
    return {
      ok: true,
      credentialId: info.credential.id,
      publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
      signCount: info.credential.counter,
      backupEligible: info.credentialDeviceType === 'multiDevice',
      backedUp: info.credentialBackedUp,
      transports: knownTransports(response.response.transports),
      attestationFormat: info.fmt,
      aaguid: attestationRootSha256 === null ? null : info.aaguid,
      attestationRootSha256,
      discoverable: reportedResidentKey(response) ?? true,
    };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? withoutQuotedValues(error.message) : 'invalid registration response' };
  }
}

/** credProps.rk (a client extension output: unsigned, only the client's word), if reported. */
function reportedResidentKey(response: RegistrationResponseJSON): boolean | undefined {
  const credProps: unknown = (response.clientExtensionResults as Record<string, unknown> | undefined)?.['credProps'];
  if (typeof credProps !== 'object' || credProps === null) return undefined;
  const rk: unknown = (credProps as Record<string, unknown>)['rk'];
  return typeof rk === 'boolean' ? rk : undefined;
}

/**
 * The library's reason without the values it quotes: "Unexpected registration response challenge
 * "…", expected "<the challenge>"" would put a challenge that is still open into the audit trail.
 */
export function withoutQuotedValues(reason: string): string {
  return reason.replace(/"[^"]*"/g, '"…"');
}

export function buildAuthenticationOptions(rp: RelyingParty, credentials: ReadonlyArray<{ credentialId: string; transports: string[] }>): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return generateAuthenticationOptions({
    rpID: rp.rpId,
    timeout: webauthnTimeoutMs,
    userVerification: 'required',
    allowCredentials: credentials.map((credential) => ({ id: credential.credentialId, transports: credential.transports as never })),
  });
}

/** A verified assertion: what its signed authenticator data said. */
export interface VerifiedAssertion {
  newSignCount: number;
  /** UV: the authenticator verified the person (PIN or biometric). The flows decide whether it must. */
  userVerified: boolean;
  /** BE and BS of this assertion. */
  backupEligible: boolean;
  backedUp: boolean;
}

export type AuthenticationCheck = ({ ok: true } & VerifiedAssertion) | { ok: false; reason: string; counterRegression: boolean };

export async function checkAuthentication(
  rp: RelyingParty,
  response: AuthenticationResponseJSON,
  expectedChallenge: string,
  credential: StoredCredential,
): Promise<AuthenticationCheck> {
  const verify = (counter: number) =>
    verifyAuthenticationResponse({
      response,
      expectedChallenge,
      expectedOrigin: rp.origins,
      expectedRPID: rp.rpId,
      // Read from the signed flags after the signature verified (the library checks UV before
      // the signature): the caller refuses a missing UV, as a genuine key's answer, not a forgery.
      requireUserVerification: false,
      credential: {
        id: credential.credentialId,
        publicKey: new Uint8Array(Buffer.from(credential.publicKey, 'base64url')),
        counter,
        transports: credential.transports as never,
      },
    });
  try {
    const result = await verify(credential.signCount);
    if (!result.verified) return { ok: false, reason: 'assertion not verified', counterRegression: false };
    const info = result.authenticationInfo;
    return { ok: true, newSignCount: info.newCounter, userVerified: info.userVerified, backupEligible: info.credentialDeviceType === 'multiDevice', backedUp: info.credentialBackedUp };
  } catch (error) {
    const reason = error instanceof Error ? error.message : 'invalid authentication response';
    if (!/counter value .* was lower than expected/i.test(reason)) return { ok: false, reason, counterRegression: false };
    // The library checks the counter before the signature. Only a genuinely signed assertion
    // with a counter that did not move forward suggests a cloned authenticator (WA-05); a forged
    // one must not be able to raise that alarm.
    const genuine = await verify(0).then(
      (result) => result.verified,
      () => false,
    );
    return { ok: false, reason: genuine ? reason : 'assertion not verified', counterRegression: genuine };
  }
}
