// The server's pino logger. Request lines carry the method and path but never the query string
// (tokens sent there by mistake must not reach the log), and any field named like a secret is
// censored wherever it appears (LOG-01). Lines are JSON, where C0 controls are escaped already; the
// C1 controls and bidi overrides a client can put in a header or a label are escaped too, so a
// log read in a terminal (`twofold serve` in development, `tail -f`) shows them, never obeys them.
import pino, { type Logger } from 'pino';
import type { TwofoldConfig } from '../config/schema.js';
import { escapeUnsafeCharactersInJson } from '../core/text/unsafe-characters.js';
import { requestLogFields } from './own-rules.js';

const secretFieldNames = [
  'password',
  'current_password',
  'new_password',
  'code',
  'recovery_code',
  'recovery_codes',
  'secret',
  'otpauth_uri',
  'qr_svg',
  'mfa_token',
  'access_token',
  'refresh_token',
  'device_token',
  'token',
  'authorization',
  'cookie',
];

export const redactedPaths = [
  ...secretFieldNames,
  ...secretFieldNames.map((name) => `*.${name}`),
  ...secretFieldNames.map((name) => `*.*.${name}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

export function createLogger(config: Pick<TwofoldConfig, 'log'>, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level: config.log.level,
      redact: { paths: redactedPaths, censor: '[redacted]' },
      hooks: { streamWrite: escapeUnsafeCharactersInJson },
      serializers: {
        req: requestLogFields,
      },
    },
    destination,
  );
}
