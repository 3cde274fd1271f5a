import { describe, expect, it } from 'vitest';
import { hostMatches, pageHost } from '../../../src/core/auth/hotlink.js';
import { outcome } from './auth-fixtures.js';

describe('hostMatches', () => {
  it.each([
    ['example.com', 'example.com', '443', true],
    ['example.com', 'www.example.com', '443', false],
    ['example.com', 'example.com.evil.net', '443', false],
    ['example.com', 'evilexample.com', '443', false],
    ['*.example.com', 'a.example.com', '443', true],
    ['*.example.com', 'a.b.example.com', '80', true],
    ['*.example.com', 'example.com', '443', false], // the apex is not a subdomain: list it separately
    ['*.example.com', 'evilexample.com', '443', false],
    ['*.example.com', 'a.example.com.evil.net', '443', false],
    ['localhost:8080', 'localhost', '8080', true],
    ['localhost:8080', 'localhost', '80', false],
    ['localhost', 'localhost', '3000', true],
    ['*.example.com:8443', 'a.example.com', '8443', true],
    ['*.example.com:8443', 'a.example.com', '443', false],
  ])('%s vs %s:%s → %s', (pattern, host, port, expected) => {
    expect(hostMatches(pattern, host, port)).toBe(expected);
  });

  it('pageHost normalizes case, trailing dots and default ports, and refuses non-http pages', () => {
    expect(pageHost('https://WWW.Example.COM./a/b?c')).toEqual({ hostname: 'www.example.com', port: '443' });
    expect(pageHost('http://localhost:8080/')).toEqual({ hostname: 'localhost', port: '8080' });
    expect(pageHost('http://user:pw@example.com/')).toEqual({ hostname: 'example.com', port: '80' });
    expect(pageHost('file:///etc/passwd')).toBeNull();
    expect(pageHost('android-app://example.com/')).toBeNull();
    expect(pageHost('example.com')).toBeNull();
    expect(pageHost('null')).toBeNull();
  });
});

describe('hotlink protection through the pipeline', () => {
  const img = '/guarded/u-1?w=64';

  it('allows listed pages from Referer, else Origin', async () => {
    expect(await outcome(img, { referer: 'https://example.com/profile/42' })).toBe('ok');
    expect(await outcome(img, { referer: 'https://shop.cdn-customer.net/' })).toBe('ok');
    expect(await outcome(img, { referer: 'http://localhost:8080/dev' })).toBe('ok');
    expect(await outcome(img, { origin: 'https://a.b.cdn-customer.net' })).toBe('ok');
  });

  it('denies other pages, including look-alikes', async () => {
    for (const referer of [
      'https://evil.net/',
      'https://example.com.evil.net/',
      'https://notexample.com/',
      'https://cdn-customer.net/',
      'http://localhost:9999/',
      'https://www.example.com/',
      'not a url',
      'file:///x',
      'javascript:alert(1)',
    ]) {
      expect(await outcome(img, { referer }), referer).toBe('HOTLINK_DENIED');
    }
    expect(await outcome(img, { origin: 'https://evil.net' })).toBe('HOTLINK_DENIED');
  });

  it('prefers Referer over Origin', async () => {
    expect(await outcome(img, { referer: 'https://evil.net/', origin: 'https://example.com' })).toBe('HOTLINK_DENIED');
    expect(await outcome(img, { referer: 'https://example.com/', origin: 'https://evil.net' })).toBe('ok');
  });

  it('treats no page (absent, empty, Origin: null) per allowEmptyReferer', async () => {
    expect(await outcome(img)).toBe('HOTLINK_DENIED');
    expect(await outcome(img, { referer: '' })).toBe('HOTLINK_DENIED');
    expect(await outcome(img, { referer: '   ', origin: 'null' })).toBe('HOTLINK_DENIED');
    // The tenant 'open' has no allowlist: any page, and none.
    expect(await outcome('/open/u-1', {})).toBe('ok');
    expect(await outcome('/open/u-1', { referer: 'https://evil.net/' })).toBe('ok');
  });

  it('rejects oversized values of the headers it reads with 431, before parsing them', async () => {
    const long = 'https://example.com/' + 'a'.repeat(5000);
    expect(await outcome(img, { referer: long })).toBe('HEADER_TOO_LARGE');
    expect(await outcome(img, { origin: long })).toBe('HEADER_TOO_LARGE');
    expect(await outcome('/open/u-1', { accept: 'image/webp,' + 'x'.repeat(5000) })).toBe('HEADER_TOO_LARGE');
    expect(await outcome('/open/u-1', { 'if-none-match': '"a",'.repeat(2000) })).toBe('HEADER_TOO_LARGE');
    expect(await outcome(img, { referer: 'https://example.com/' + 'a'.repeat(4000) })).toBe('ok');
    // Headers the pipeline never reads are the host's business (Node caps the block at 16 KiB).
    expect(await outcome('/open/u-1', { 'x-junk': 'x'.repeat(8000) })).toBe('ok');
  });
});
