// Schema pieces shared by several routes. Every string has a maxLength: validation bounds the
// work a request can cause before any flow code runs.
import { Type } from 'typebox';
import { typedCodeMaxLength } from '../../core/otp/typed-code.js';

export const isoTimeSchema = Type.String({ format: 'date-time' });
// Nullable values as JSON Schema type arrays (valid OpenAPI 3.1), not anyOf: fast-json-stringify
// serializes a type array directly, while for anyOf it validates each branch with Ajv on every
// response — a tenth of the time of GET /v1/me went to checking date-time formats.
export const nullableIsoTime = Type.Unsafe<string | null>({ type: ['string', 'null'], format: 'date-time' });
export const nullableString = Type.Unsafe<string | null>({ type: ['string', 'null'] });

/** A WebAuthn JSON object (options or a credential): its shape is checked by SimpleWebAuthn. */
export const webauthnObjectSchema = Type.Object({}, { additionalProperties: true });


export const userSchema = Type.Object({
  id: Type.String(),
  username: Type.String(),
  email: nullableString,
  email_verified: Type.Boolean({ description: 'Whether the owner of the address proved it; until then it receives nothing but a verification mail' }),
  phone: nullableString,
  created_at: isoTimeSchema,
});

export const factorSummarySchema = Type.Object({
  id: Type.String(),
  type: Type.String(),
  label: nullableString,
  destination: nullableString,
});

export const factorSchema = Type.Object({
  id: Type.String(),
  type: Type.String(),
  label: nullableString,
  destination: nullableString,
  status: Type.String(),
  created_at: isoTimeSchema,
  activated_at: nullableIsoTime,
  last_used_at: nullableIsoTime,
});

/** A security event as its owner (GET /v1/me/events) and an admin (GET /v1/admin/users/{id}) see it. */
export const securityEventSchema = Type.Object({
  id: Type.String(),
  type: Type.String(),
  created_at: isoTimeSchema,
  ip: nullableString,
  user_agent: nullableString,
  details: Type.Object({}, { additionalProperties: true }),
  count: Type.Integer({ minimum: 1, description: 'How many identical events (same type, address and details, close together) this entry stands for' }),
  last_at: nullableIsoTime,
});

export const sessionSchema = Type.Object({
  id: Type.String(),
  created_at: isoTimeSchema,
  auth_time: nullableIsoTime,
  acr: Type.String(),
  amr: Type.Array(Type.String()),
  last_active_at: isoTimeSchema,
  idle_expires_at: isoTimeSchema,
  expires_at: isoTimeSchema,
  ip: nullableString,
  user_agent: nullableString,
});

export const tokenResponseProperties = {
  access_token: Type.String(),
  token_type: Type.Union([Type.Literal('Bearer'), Type.Literal('DPoP')], { description: '"DPoP" when the access token is bound to the key of the request\'s DPoP proof (cnf.jkt), else "Bearer"' }),
  expires_in: Type.Integer(),
  refresh_token: Type.String(),
};
export const tokenResponseSchema = Type.Object(tokenResponseProperties);

export const totpEnrollmentSchema = Type.Object({
  factor_id: Type.String(),
  type: Type.Literal('totp'),
  label: nullableString,
  status: Type.Literal('pending'),
  secret: Type.String(),
  otpauth_uri: Type.String(),
  qr_svg: Type.String(),
});

/** Any enrollment: TOTP (secret, URI, QR), SMS / e-mail (code sent), passkey (creation options). */
export const enrollmentSchema = Type.Object({
  factor_id: Type.String(),
  type: Type.String(),
  label: nullableString,
  status: Type.Literal('pending'),
  secret: Type.Optional(Type.String()),
  otpauth_uri: Type.Optional(Type.String()),
  qr_svg: Type.Optional(Type.String()),
  destination: Type.Optional(Type.String()),
  challenge_id: Type.Optional(Type.String()),
  expires_in: Type.Optional(Type.Integer()),
  options: Type.Optional(webauthnObjectSchema),
  /** SMS: why an app or a passkey is the stronger choice (NIST "restricted authenticator"). */
  notice: Type.Optional(Type.String()),
});

/** Ids are ours (prefix + base64url); anything else cannot name a row, so it is refused up front. */
export const idSchema = Type.String({ maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });

/**
 * Free text people choose (labels): no C0 or C1 control, DEL, bidi override or line separator —
 * the rule of src/flows/factors/factor-label.ts, which holds for the pages and library callers too.
 */
export const labelSchema = Type.String({ maxLength: 64, pattern: '^[^\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069\\u2028\\u2029]*$' });

/** RegistrationResponseJSON / AuthenticationResponseJSON, bounded; the ceremony checks the rest. */
export const credentialSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 1024, pattern: '^[A-Za-z0-9_-]+$' }),
    rawId: Type.String({ minLength: 1, maxLength: 1024 }),
    type: Type.Literal('public-key'),
    response: Type.Object({}, { additionalProperties: true }),
    clientExtensionResults: Type.Optional(Type.Object({}, { additionalProperties: true })),
    authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
  },
  { additionalProperties: true },
);

export const challengeResponseSchema = Type.Object({
  challenge_id: Type.String(),
  expires_in: Type.Integer(),
  destination: Type.Optional(Type.String()),
  options: Type.Optional(webauthnObjectSchema),
});

/**
 * A typed code, read by the flow before anything is spent (src/flows/budgets/code-input.ts): not a pattern
 * here, so that "792 821" is accepted and a malformed code gets the flow's message.
 */
export const codeSchema = Type.String({
  maxLength: typedCodeMaxLength,
  description:
    'The 6-digit code (from the authenticator app, or sent by SMS or e-mail). Spaces or dashes between the digits are fine, and so is the one line the code came in when it holds no other digits ("Your code is 792 821"); anything else that cannot be a code is 400 invalid_request and spends no attempt.',
});

/** A recovery code or a password reset code: 20 letters and digits, any case, spaces or dashes anywhere. */
export const recoveryCodeSchema = Type.String({
  maxLength: typedCodeMaxLength,
  description: 'As it was given (four groups of five letters and digits, dash-separated), in any case, with or without spaces or dashes; anything that cannot be such a code is 400 invalid_request and spends no attempt.',
});

export const problemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.String(),
    detail: Type.String(),
  },
  { additionalProperties: true },
);
