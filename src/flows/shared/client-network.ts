// The client a per-client budget counts: the network of the request's IP (its IPv6 /64, or the
// IPv4 address), hashed so that the shared store never holds addresses. Undefined without an IP
// (a library call with no request behind it): there is no client to count.
import { sha256Base64url } from '../../core/crypto/digest.js';
import { clientNetwork } from '../../core/network/client-network.js';
import type { FlowContext, RequestMeta } from './context.js';

export function clientNetworkId(ctx: FlowContext, meta: RequestMeta): string | undefined {
  return meta.ip === undefined ? undefined : sha256Base64url(clientNetwork(meta.ip, ctx.config.throttle.ipv6PrefixBits));
}
