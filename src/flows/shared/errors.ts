// Small constructors for the errors flows throw in several places, so the same failure always
// reads the same (and identical failures stay byte-identical, as LG-01 requires).
import { WorkLimiterFullError } from '../../core/concurrency/work-limiter.js';
import { TwofoldError } from '../../errors.js';
import { isDatabaseUnavailable } from '../../store/connect.js';
import { KeyValueStoreUnavailableError } from '../../store/kv/key-value-store.js';

export function invalidCredentials(): TwofoldError {
  return new TwofoldError('invalid_credentials', 'The username or password is incorrect.');
}

export function invalidRequest(pointer: string, detail: string): TwofoldError {
  return new TwofoldError('invalid_request', detail, { extensions: { errors: [{ pointer: `#/${pointer}`, detail }] } });
}

/** The database or Redis is down or too slow: the request is answered 503, never 500. */
export function isDependencyUnavailable(error: unknown): boolean {
  return error instanceof KeyValueStoreUnavailableError || isDatabaseUnavailable(error);
}

export function dependencyUnavailable(cause: unknown): TwofoldError {
  return new TwofoldError('server_busy', 'A service Twofold depends on is unavailable; retry shortly.', { headers: { 'Retry-After': '1' }, cause });
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
