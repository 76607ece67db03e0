// Page loads that find the access cookie gone refresh from the refresh cookie. A browser loading
// two pages at once (restored tabs, a page and its prefetch, a double click) sends one refresh
// cookie twice; rotation would spend it on the first and read the second as theft, signing the
// person out. On one instance such loads share one refresh — single flight, keyed by the token's
// digest and kept only while it runs; across instances the refresh reuse grace gives the later
// one the same answer (src/flows/sessions/refresh-grace.ts).
import { sha256Base64url } from '../core/crypto/digest.js';
import type { FlowContext, RequestMeta } from '../flows/shared/context.js';
import { refreshTokens } from '../flows/sessions/refresh.js';
import type { TokenResponse } from '../flows/sessions/tokens.js';

const refreshesInFlight = new WeakMap<FlowContext, Map<string, Promise<TokenResponse>>>();

export function refreshForPage(ctx: FlowContext, refreshToken: string, meta: RequestMeta): Promise<TokenResponse> {
  let inFlight = refreshesInFlight.get(ctx);
  if (inFlight === undefined) {
    inFlight = new Map();
    refreshesInFlight.set(ctx, inFlight);
  }
  const key = sha256Base64url(refreshToken);
  const running = inFlight.get(key);
  if (running !== undefined) return running;
  const started = refreshTokens(ctx, refreshToken, meta).finally(() => inFlight.delete(key));
  inFlight.set(key, started);
  return started;
}
