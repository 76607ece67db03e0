// GET a JSON document from the issuer with a bounded wait: a slow issuer must never hold a
// resource server's requests for longer than the timeout.
import { VerificationError } from './errors.js';

export type FetchFunction = typeof fetch;

export async function fetchJson(fetchFunction: FetchFunction, url: string, timeoutMs: number, what: string): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetchFunction(url, { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new VerificationError('verifier_unavailable', `Could not fetch ${what} from ${url}: ${(error as Error).message}`, {}, { cause: error });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new VerificationError('verifier_unavailable', `Could not fetch ${what} from ${url}: HTTP ${response.status}`);
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new VerificationError('verifier_unavailable', `${what} at ${url} is not a JSON object`);
  }
  return body as Record<string, unknown>;
}
