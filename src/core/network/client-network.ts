// Which network a client IP belongs to, for budgets counted per client (RC-02, LG-04).
// One IPv6 subscriber is handed a whole /64 (RFC 6177 and every ISP in practice), so counting each
// IPv6 address apart would give one attacker 2^64 budgets: IPv6 is counted per prefix (64 bits by
// default). An IPv4-mapped IPv6 address (::ffff:198.51.100.7, what a dual-stack socket reports)
// is the IPv4 client it wraps, so it shares that client's budget.
import ipaddr from 'ipaddr.js';

/** A stable name of the client's network: "198.51.100.7" or "2001:db8:1:2::/64". */
export function clientNetwork(ip: string, ipv6PrefixBits: number): string {
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    // A zone index (fe80::1%eth0) names an interface, not a client: the same link either way.
    address = ipaddr.parse(ip.replace(/%.*$/, ''));
  } catch {
    // Not an address (a test's made-up peer, a unix socket): counted as itself.
    return ip;
  }
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) address = (address as ipaddr.IPv6).toIPv4Address();
  if (address.kind() === 'ipv4') return address.toString();
  const network = ipaddr.IPv6.networkAddressFromCIDR(`${address.toString()}/${ipv6PrefixBits}`);
  return `${network.toString()}/${ipv6PrefixBits}`;
}
