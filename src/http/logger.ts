// The server's pino logger. Request lines carry the method and path but never the query string
// (tokens sent there by mistake must not reach the log), and any field named like a secret is
// censored wherever it appears (LOG-01). Lines are JSON, where C0 controls are escaped already; the
// C1 controls and bidi overrides a client can put in a header or a label are escaped too, so a
// log read in a terminal (`tail -f`) shows them, never obeys them. On a terminal in development
// the same lines are pretty-printed (src/http/pretty-log.ts), with those characters escaped in the
// text it prints.
import pino, { type Logger } from 'pino';
import type { TwofoldConfig } from '../config/schema.js';
import { escapeUnsafeCharacters, escapeUnsafeCharactersInJson } from '../core/text/unsafe-characters.js';
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

export interface LoggerOptions {
  /**
   * The lines go to a pretty-printer (src/http/pretty-log.ts), which parses them back: their text
   * must then show unsafe characters as visible escapes, not as JSON escapes the parser undoes.
   */
  forPrettyPrinter?: boolean;
}

export function createLogger(config: { log: Pick<TwofoldConfig['log'], 'level'> }, destination?: pino.DestinationStream, options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: config.log.level,
      // Redaction is part of serialising, so it holds whichever way the line is shown.
      redact: { paths: redactedPaths, censor: '[redacted]' },
      hooks: { streamWrite: options.forPrettyPrinter === true ? escapeUnsafeCharactersForTerminal : escapeUnsafeCharactersInJson },
      serializers: {
        req: requestLogFields,
      },
    },
    destination,
  );
}

/**
 * A JSON line whose strings show every unsafe character as a visible escape ("\\x1b") once parsed.
 * Stack traces keep their line breaks: they are Twofold's own text, and unreadable on one line.
 */
function escapeUnsafeCharactersForTerminal(json: string): string {
  const line: unknown = JSON.parse(json);
  const escaped = (value: unknown, key: string): unknown => {
    if (typeof value === 'string') return key === 'stack' ? value.split('\n').map(escapeUnsafeCharacters).join('\n') : escapeUnsafeCharacters(value);
    if (Array.isArray(value)) return value.map((item) => escaped(item, ''));
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([name, item]) => [escapeUnsafeCharacters(name), escaped(item, name)]));
    return value;
  };
  return `${JSON.stringify(escaped(line, ''))}\n`;
}
