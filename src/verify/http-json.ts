// GET a JSON document from the issuer with a bounded wait: a slow issuer must never hold a
// resource server's requests for longer than the timeout. Failures name the URL in their
// diagnostic only (errors.ts): the message a client may see stays generic.
import { verifierUnavailable } from './errors.js';

export type FetchFunction = typeof fetch;

export async function fetchJson(fetchFunction: FetchFunction, url: string, timeoutMs: number, what: string): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetchFunction(url, { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw verifierUnavailable(`Could not fetch ${what} from ${url}: ${describeCause(error)}`, error);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw verifierUnavailable(`Could not fetch ${what} from ${url}: HTTP ${response.status}`);
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw verifierUnavailable(`${what} at ${url} is not a JSON object`);
  }
  return body as Record<string, unknown>;
}

/** fetch() says "fetch failed" and keeps the reason (ECONNREFUSED, a timeout) in its cause. */
function describeCause(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error ? error.cause : undefined;
  return cause instanceof Error ? `${message} (${cause.message})` : message;
}
