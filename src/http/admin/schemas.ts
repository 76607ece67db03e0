// Response schemas of the admin API. Serialization keeps only the properties listed here, so a
// field added to a view by mistake (a hash, a seed) still never leaves the server (AD-02).
import { Type } from 'typebox';
import { factorSchema, isoTimeSchema, nullableIsoTime, nullableString, securityEventSchema, sessionSchema } from '../schemas/common.js';

export const adminUserSummarySchema = Type.Object({
  id: Type.String(),
  username: Type.String(),
  email: nullableString,
  email_verified: Type.Boolean(),
  phone: nullableString,
  created_at: isoTimeSchema,
  last_sign_in_at: nullableIsoTime,
  locked: Type.Boolean(),
  disabled: Type.Boolean({ description: 'true while a deletion waits (delete_after): every sign-in is refused' }),
  roles: Type.Array(Type.String()),
  factor_types: Type.Array(Type.String(), { description: 'types of the active second factors; empty: the next sign-in enrolls one' }),
  delete_after: nullableIsoTime,
});

const trustedDeviceSchema = Type.Object({ id: Type.String(), label: nullableString, created_at: isoTimeSchema, expires_at: isoTimeSchema, last_used_at: nullableIsoTime });

export const adminUserDetailsSchema = Type.Object({
  ...adminUserSummarySchema.properties,
  factors: Type.Array(factorSchema),
  sessions: Type.Array(sessionSchema),
  trusted_devices: Type.Array(trustedDeviceSchema),
  recent_events: Type.Array(securityEventSchema),
  recovery_codes_remaining: Type.Integer(),
  enroll_required: Type.Boolean({ description: 'no active second factor: the next sign-in needs the password, then enrolls a factor' }),
  password_reset_required: Type.Boolean({ description: 'an admin forced a password reset: the password signs in again only after the owner resets it' }),
  has_password: Type.Boolean(),
  failed_attempts: Type.Integer(),
});

export const reasonBody = Type.Object(
  { reason: Type.String({ maxLength: 2000, description: 'Why (3–500 characters): recorded in the audit event with the admin and the target' }) },
  { additionalProperties: false },
);

export const roleBody = Type.Object(
  { role: Type.String({ maxLength: 32, description: '`support` (any admin), `admin` (a superadmin only); `superadmin` only on the command line' }), reason: reasonBody.properties.reason },
  { additionalProperties: false },
);

export const userIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });

/** An ISO 8601 date-time or milliseconds since 1970. */
const timeParameter = Type.Optional(Type.String({ maxLength: 40, pattern: '^([0-9]{1,16}|[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+(Z|[+-][0-9]{2}:?[0-9]{2})?)?)$' }));

export const searchQuerystring = Type.Object(
  {
    q: Type.Optional(Type.String({ maxLength: 254, description: 'a username or e-mail prefix (case-insensitive)' })),
    email: Type.Optional(Type.String({ maxLength: 254, description: 'an e-mail prefix (case-insensitive)' })),
    phone_suffix: Type.Optional(Type.String({ maxLength: 32, description: 'the last digits of the phone number' })),
    created_after: timeParameter,
    created_before: timeParameter,
    last_sign_in_after: timeParameter,
    last_sign_in_before: timeParameter,
    locked: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
    has_factor: Type.Optional(Type.Union(['totp', 'sms', 'email', 'webauthn', 'any', 'none'].map((value) => Type.Literal(value)))),
    limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$', description: '1–100, 50 by default' })),
    after: Type.Optional(Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9_-]+$', description: 'the `next` of the previous page' })),
  },
  { additionalProperties: false },
);

/** The export takes the search's filters (no page: it streams every match) and the reason. */
const { limit: _limit, after: _after, ...searchFilters } = searchQuerystring.properties;
export const exportBody = Type.Object({ ...searchFilters, reason: reasonBody.properties.reason }, { additionalProperties: false });
