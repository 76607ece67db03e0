// The client options of `twofold clients add|update` (src/oidc/client-options.ts) read from the
// command line: the keys of a private_key_jwt client from a JWKS file, the rest as typed. A file
// that cannot be read or is not JSON stops the command before the database is opened.
import { readFileSync } from 'node:fs';
import { TwofoldError } from '../../errors.js';
import type { OidcClientOptions, RequiredAcr, SubjectType } from '../../oidc/client-options.js';

export interface ClientOptionFlags {
  requireAcr?: string;
  subjectType?: string;
  requirePar?: boolean;
  native?: boolean;
  jwksFile?: string;
  jwksUri?: string;
  dpop?: boolean;
}

function readJwksFile(path: string): { keys: Array<Record<string, unknown>> } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new TwofoldError('invalid_request', `The JWKS file "${path}" cannot be read.`);
  }
  try {
    return JSON.parse(text) as { keys: Array<Record<string, unknown>> };
  } catch {
    throw new TwofoldError('invalid_request', `The JWKS file "${path}" is not JSON.`);
  }
}

/** Only the options given on the command line; checked later with the rest of the registration. */
export function clientOptionsFromFlags(flags: ClientOptionFlags): Partial<OidcClientOptions> {
  return {
    ...(flags.requireAcr === undefined ? {} : { requiredAcr: flags.requireAcr as RequiredAcr }),
    ...(flags.subjectType === undefined ? {} : { subjectType: flags.subjectType as SubjectType }),
    ...(flags.requirePar === undefined ? {} : { requirePar: flags.requirePar }),
    ...(flags.native === undefined ? {} : { native: flags.native }),
    ...(flags.jwksFile === undefined ? {} : { jwks: readJwksFile(flags.jwksFile) }),
    ...(flags.jwksUri === undefined ? {} : { jwksUri: flags.jwksUri }),
    ...(flags.dpop === undefined ? {} : { dpop: flags.dpop }),
  };
}
