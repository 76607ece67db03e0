// Turning a non-2xx answer into the error the caller catches. A problem+json answer keeps its
// stable code; a step-up challenge (RFC 9470) becomes a StepUpRequiredError so that apps can
// prompt for a second factor instead of signing the person out.
import { StepUpRequiredError, TwofoldClientError } from './errors.js';
import { parseAuthChallenge, parseRetryAfterSeconds } from './response-headers.js';
import type { ProblemDocument } from './types.js';

function isProblemDocument(body: unknown): body is ProblemDocument {
  if (typeof body !== 'object' || body === null) return false;
  const candidate = body as Record<string, unknown>;
  return typeof candidate['code'] === 'string' && typeof candidate['status'] === 'number';
}

function numberOrUndefined(value: unknown): number | undefined {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) ? number : undefined;
}

/** `body` is the parsed JSON of the answer, or undefined when it was not JSON. */
export function errorFromResponse(response: Response, body: unknown, nowMs: number): TwofoldClientError {
  const problem = isProblemDocument(body) ? body : undefined;
  const retryAfterSeconds = parseRetryAfterSeconds(response.headers.get('retry-after'), nowMs) ?? numberOrUndefined(problem?.['retry_after']);
  if (problem === undefined) {
    return new TwofoldClientError({
      code: 'invalid_response',
      status: response.status,
      detail: `The server answered ${response.status} without a problem document.`,
      retryAfterSeconds,
    });
  }

  const init = { code: problem.code, status: response.status, detail: problem.detail, retryAfterSeconds, problem };
  // A DPoP-bound token's step-up challenge comes with the DPoP scheme (RFC 9449 §7.1), a Bearer token's with Bearer.
  const wwwAuthenticate = response.headers.get('www-authenticate');
  const challenge = parseAuthChallenge(wwwAuthenticate, 'Bearer') ?? parseAuthChallenge(wwwAuthenticate, 'DPoP');
  if (challenge?.['error'] === 'insufficient_user_authentication' || problem.code === 'insufficient_authentication') {
    const acrValues = challenge?.['acr_values'] ?? (typeof problem['acr_values'] === 'string' ? problem['acr_values'] : '');
    return new StepUpRequiredError({
      ...init,
      maxAgeSeconds: numberOrUndefined(challenge?.['max_age']) ?? numberOrUndefined(problem['max_age']),
      acrValues: acrValues.split(' ').filter((value) => value !== ''),
    });
  }
  return new TwofoldClientError(init);
}
