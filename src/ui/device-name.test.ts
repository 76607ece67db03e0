import { describe, expect, it } from 'vitest';
import { deviceName } from './device-name.js';

describe('deviceName()', () => {
  it.each([
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 'Chrome on Linux'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1', 'Safari on iPhone'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0', 'Firefox on Windows'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15', 'Safari on macOS'],
    ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36', 'Chrome on Android'],
  ])('names %s as %s', (userAgent, name) => {
    expect(deviceName(userAgent)).toBe(name);
  });

  it('shows an unrecognised client as it describes itself, shortened', () => {
    expect(deviceName('curl/8.5.0')).toBe('curl/8.5.0');
    const long = `robot/${'x'.repeat(200)}`;
    expect(deviceName(long)).toHaveLength(60);
    expect(deviceName(long).endsWith('…')).toBe(true);
  });

  it('says so when the browser sent nothing', () => {
    for (const nothing of [null, undefined, '', '   ']) expect(deviceName(nothing)).toBe('A browser that did not say');
  });
});
