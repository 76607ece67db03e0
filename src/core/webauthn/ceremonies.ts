// Passkey ceremonies over @simplewebauthn/server (WA-01..WA-06). The relying party is Twofold's
// public URL (rpID = its host name, origin = its origin); user verification is required at
// registration and at every login (the "biometric" of the seed's step 6); attestation is not
// requested ('none'), so no device data is collected. Results are plain values: the flows decide.
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

export interface RelyingParty {
  rpId: string;
  rpName: string;
  origins: string[];
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
    attestationType: 'none',
    excludeCredentials: existing.map((credential) => ({ id: credential.credentialId, transports: credential.transports })),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
    // EdDSA, ES256, RS256: what platform authenticators and security keys offer.
    supportedAlgorithmIDs: [-8, -7, -257],
  });
}

export type RegistrationCheck =
  | { ok: true; credentialId: string; publicKey: string; signCount: number; deviceType: string; backedUp: boolean; transports: string[] }
  | { ok: false; reason: string };

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
    return {
      ok: true,
      credentialId: info.credential.id,
      publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
      signCount: info.credential.counter,
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
      transports: response.response.transports ?? [],
    };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? withoutQuotedValues(error.message) : 'invalid registration response' };
  }
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

export type AuthenticationCheck = { ok: true; newSignCount: number; deviceType: string } | { ok: false; reason: string; counterRegression: boolean };

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
      requireUserVerification: true,
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
    return { ok: true, newSignCount: result.authenticationInfo.newCounter, deviceType: result.authenticationInfo.credentialDeviceType };
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
