// Schema violations in words a person can act on. Ajv describes a failure by the keyword that
// failed ("must be equal to constant; must match a schema in anyOf"), which tells a newcomer
// nothing about what to send; this turns Ajv's errors into one sentence per field — "type must be
// one of totp, sms, email, webauthn", "password is required", "limit must be a whole number from 1
// to 100" — built from the error's keyword and parameters only, never from the value that was sent
// (a request body can hold a password).
import type { FastifySchemaValidationError } from 'fastify';

export interface ReadableValidationError {
  /** JSON pointer of the field, e.g. "#/type" (for a missing field, where it should be). */
  pointer: string;
  /** The field and what it must be, e.g. "type must be one of totp, sms, email, webauthn". */
  detail: string;
}

const typeWords: Readonly<Record<string, string>> = {
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  null: 'null',
};

const formatWords: Readonly<Record<string, string>> = {
  'date-time': 'a date and time (ISO 8601, e.g. 2026-01-31T12:00:00Z)',
  date: 'a date (ISO 8601, e.g. 2026-01-31)',
  email: 'an e-mail address',
  uri: 'a URL',
  url: 'a URL',
  uuid: 'a UUID',
};

/**
 * The patterns of Twofold's schemas (src/http/schemas, src/http/routes), said in words. A pattern
 * not listed here is reported as "is not in the accepted form", never as a regular expression.
 */
const patternWords: Readonly<Record<string, string>> = {
  '^(100|[1-9][0-9]?)$': 'a whole number from 1 to 100',
  '^[0-9]{1,16}$': 'a whole number (up to 16 digits)',
  '^[A-Za-z0-9_-]+$': 'an id: letters, digits, _ and -',
  '^[A-Za-z0-9_-]{1,64}$': 'an id: up to 64 letters, digits, _ and -',
  '^[0-9]{1,15}\\.ses_[A-Za-z0-9_-]{1,64}$': 'the next_before of the previous page',
  '^[0-9]{1,15}\\.dev_[A-Za-z0-9_-]{1,64}$': 'the next_before of the previous page',
  '^evt_[A-Za-z0-9_-]+$': 'the next_before of the previous page',
  '^[^\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069\\u2028\\u2029]*$':
    'text without control characters, line breaks or bidi overrides',
};

const partWords: Readonly<Record<string, string>> = { body: 'body', querystring: 'query string', params: 'path', headers: 'headers' };

/** "The request body is invalid: type must be one of …; label must be at most 64 characters." */
export function describeValidationFailure(errors: readonly ReadableValidationError[], part: string | undefined): string {
  return `The request ${partWords[part ?? 'body'] ?? part} is invalid: ${errors.map((error) => error.detail).join('; ')}.`;
}

export function readableValidationErrors(errors: readonly FastifySchemaValidationError[], part: string | undefined): ReadableValidationError[] {
  const readable: ReadableValidationError[] = [];
  for (const error of errors) {
    // A branch of an anyOf / oneOf is reported by the combinator's own error, which comes after it.
    if (errors.some((other) => isCombinator(other) && other !== error && error.schemaPath.startsWith(`${other.schemaPath}/`))) continue;
    const branches = isCombinator(error) ? errors.filter((other) => other.schemaPath.startsWith(`${error.schemaPath}/`)) : [];
    const path = error.keyword === 'required' ? `${error.instancePath}/${String(error.params['missingProperty'] ?? '')}` : error.instancePath;
    const entry = { pointer: `#${path}`, detail: `${fieldName(path, part)} ${requirement(error, branches)}` };
    if (!readable.some((existing) => existing.detail === entry.detail)) readable.push(entry);
  }
  return readable;
}

function isCombinator(error: FastifySchemaValidationError): boolean {
  return error.keyword === 'anyOf' || error.keyword === 'oneOf';
}

/** "type", "credential.response", or the part itself for the whole body / query string. */
function fieldName(instancePath: string, part: string | undefined): string {
  const segments = instancePath.split('/').slice(1).map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (segments.length === 0) return `the ${partWords[part ?? 'body'] ?? 'value'}`;
  return segments.join('.');
}

function requirement(error: FastifySchemaValidationError, branches: readonly FastifySchemaValidationError[]): string {
  const limit = Number(error.params['limit']);
  switch (error.keyword) {
    case 'required':
      return 'is required';
    case 'type':
      return `must be ${alternatives(String(error.params['type']).split(',').map((type) => typeWords[type] ?? type))}`;
    case 'const':
      return `must be ${String(error.params['allowedValue'])}`;
    case 'enum':
      return `must be one of ${(error.params['allowedValues'] as unknown[]).map(String).join(', ')}`;
    case 'format':
      return `must be ${formatWords[String(error.params['format'])] ?? `in the ${String(error.params['format'])} format`}`;
    case 'pattern': {
      const words = patternWords[String(error.params['pattern'])];
      return words === undefined ? 'is not in the accepted form' : `must be ${words}`;
    }
    case 'minLength':
      return limit === 1 ? 'must not be empty' : `must be at least ${limit} characters long`;
    case 'maxLength':
      return `must be at most ${limit} characters long`;
    case 'minimum':
      return `must be at least ${limit}`;
    case 'maximum':
      return `must be at most ${limit}`;
    case 'exclusiveMinimum':
      return `must be more than ${limit}`;
    case 'exclusiveMaximum':
      return `must be less than ${limit}`;
    case 'minItems':
      return `must have at least ${limit} item${limit === 1 ? '' : 's'}`;
    case 'maxItems':
      return `must have at most ${limit} item${limit === 1 ? '' : 's'}`;
    case 'minProperties':
      return limit === 1 ? 'must not be empty' : `must have at least ${limit} fields`;
    case 'maxProperties':
      return `must have at most ${limit} fields`;
    case 'additionalProperties':
      return `must not have the field ${String(error.params['additionalProperty'])}`;
    case 'anyOf':
    case 'oneOf':
      return combinatorRequirement(branches);
    default:
      return 'is not accepted';
  }
}

/**
 * What an anyOf / oneOf wants. Literal choices become "one of a, b, c". A branch that failed on
 * something other than its type accepted the value's type, so only those branches are told
 * ("label must be at most 64 characters long", not "… or null"); otherwise every type is offered.
 */
function combinatorRequirement(branches: readonly FastifySchemaValidationError[]): string {
  if (branches.length > 0 && branches.every((branch) => branch.keyword === 'const')) {
    return `must be one of ${branches.map((branch) => String(branch.params['allowedValue'])).join(', ')}`;
  }
  const matchingType = branches.filter((branch) => branch.keyword !== 'type');
  const told = matchingType.length > 0 ? matchingType : branches;
  const requirements = [...new Set(told.map((branch) => requirement(branch, [])))];
  if (requirements.length === 0) return 'is not accepted';
  if (requirements.every((text) => text.startsWith('must be '))) return `must be ${alternatives(requirements.map((text) => text.slice('must be '.length)))}`;
  return requirements.join(', or ');
}

function alternatives(words: readonly string[]): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;
}
