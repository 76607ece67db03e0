// Small constructors for the errors flows throw in several places, so the same failure always
// reads the same (and identical failures stay byte-identical, as LG-01 requires).
import { WorkLimiterFullError } from '../core/concurrency/work-limiter.js';
import { TwofoldError } from '../errors.js';

export function invalidCredentials(): TwofoldError {
  return new TwofoldError('invalid_credentials', 'The username or password is incorrect.');
}

export function invalidRequest(pointer: string, detail: string): TwofoldError {
  return new TwofoldError('invalid_request', detail, { extensions: { errors: [{ pointer: `#/${pointer}`, detail }] } });
}

/** Runs password hashing; a full work queue becomes 503 server_busy with Retry-After. */
export async function withHashCapacity<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof WorkLimiterFullError) {
      throw new TwofoldError('server_busy', 'Too many sign-ins are being processed; retry in a second.', {
        headers: { 'Retry-After': '1' },
        cause: error,
      });
    }
    throw error;
  }
}
