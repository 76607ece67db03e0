// Who the client is, by Twofold's own rule: the socket's address, or — only when the socket is one
// of TWOFOLD_TRUSTED_PROXIES — the address those proxies name in X-Forwarded-For, walked from the
// right while each hop is itself a trusted proxy (@fastify/proxy-addr, the code behind Fastify's
// `trustProxy`). It is the key of the per-client guess and send budgets (LG-05, RC-02) and what
// sessions and the audit trail record, so it must not depend on the app Twofold runs in: a host
// app's `trustProxy: true` would let any client name any address and start a fresh budget with
// each request; a host that trusts nothing would count every client behind the real proxies as
// one. Fastify's `request.ip` follows the host's setting, so Twofold never reads it.
import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import ipaddr from 'ipaddr.js';

export type ClientIpResolver = (raw: IncomingMessage) => string | undefined;

export function createClientIpResolver(trustedProxies: readonly string[]): ClientIpResolver {
  if (trustedProxies.length === 0) return (raw) => raw.socket.remoteAddress;
  const trust = proxyAddr.compile([...trustedProxies]);
  return (raw) => {
    // The socket first, then each hop a trusted proxy vouches for, ending at the first address
    // that is not a trusted proxy: the client.
    const chain = proxyAddr.all(raw, trust);
    const client = chain.at(-1);
    if (client === undefined || ipaddr.isValid(client)) return client;
    // A trusted proxy passed on something that is not an address ("unknown", a client's garbage
    // it did not replace): the proxy that said so is the nearest client known for certain.
    return chain.at(-2) ?? client;
  };
}
