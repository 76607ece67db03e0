import { describe, expect, it } from 'vitest';
import { clientNetwork } from './client-network.js';

describe('clientNetwork()', () => {
  it('RC-02: every address of one IPv6 /64 is one client', () => {
    const networks = new Set(['2001:db8:1:2::1', '2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0db8:0001:0002:0000:0000:0000:0abc', '2001:DB8:1:2:aaaa::'].map((ip) => clientNetwork(ip, 64)));
    expect([...networks]).toEqual(['2001:db8:1:2::/64']);
  });

  it('RC-02: neighbouring /64s stay apart, and the prefix length is configurable', () => {
    expect(clientNetwork('2001:db8:1:3::1', 64)).not.toBe(clientNetwork('2001:db8:1:2::1', 64));
    expect(clientNetwork('2001:db8:1:3::1', 48)).toBe(clientNetwork('2001:db8:1:2::1', 48));
    expect(clientNetwork('2001:db8:1:2::1', 128)).not.toBe(clientNetwork('2001:db8:1:2::2', 128));
  });

  it('RC-02: an IPv4-mapped IPv6 address is the IPv4 client it wraps', () => {
    expect(clientNetwork('::ffff:198.51.100.7', 64)).toBe('198.51.100.7');
    expect(clientNetwork('::ffff:c633:6407', 64)).toBe('198.51.100.7');
    expect(clientNetwork('198.51.100.7', 64)).toBe('198.51.100.7');
  });

  it('IPv4 addresses are counted one by one', () => {
    expect(clientNetwork('198.51.100.7', 64)).not.toBe(clientNetwork('198.51.100.8', 64));
  });

  it('a zone index does not make a new client; a string that is no address is counted as itself', () => {
    expect(clientNetwork('fe80::1%eth0', 64)).toBe(clientNetwork('fe80::2%eth1', 64));
    expect(clientNetwork('not an address', 64)).toBe('not an address');
  });
});
