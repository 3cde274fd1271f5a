import { describe, expect, it } from 'vitest';
import { bucketUrl, defaultPathStyle, encodeKeyPath, isIpOrLocalhost, objectUrl } from '../../src/storage/s3-url.js';

describe('S3 URLs', () => {
  const aws = { endpoint: 'https://s3.us-east-1.amazonaws.com', bucket: 'avatars', forcePathStyle: false };
  const r2 = { endpoint: 'https://0123abcd.r2.cloudflarestorage.com', bucket: 'avatars', forcePathStyle: true };

  it('addresses objects virtual-hosted or path-style', () => {
    expect(objectUrl(aws, 'originals/acme/3f/u-42')).toBe('https://avatars.s3.us-east-1.amazonaws.com/originals/acme/3f/u-42');
    expect(objectUrl(r2, 'originals/acme/3f/u-42')).toBe('https://0123abcd.r2.cloudflarestorage.com/avatars/originals/acme/3f/u-42');
    expect(objectUrl({ endpoint: 'http://127.0.0.1:9000/', bucket: 'b12', forcePathStyle: true }, 'k')).toBe('http://127.0.0.1:9000/b12/k');
  });

  it('keeps a path prefix on the endpoint', () => {
    expect(objectUrl({ endpoint: 'https://gw.example.com/s3/', bucket: 'avatars', forcePathStyle: true }, 'a/b')).toBe('https://gw.example.com/s3/avatars/a/b');
  });

  it('encodes each key segment (RFC 3986) and keeps the slashes', () => {
    expect(encodeKeyPath("a b/c+d/e%f/g?h#i/(j)!*'/é")).toBe('a%20b/c%2Bd/e%25f/g%3Fh%23i/%28j%29%21%2A%27/%C3%A9');
    // The URL parser must not reinterpret anything: the path is exactly what we built.
    expect(new URL(objectUrl(aws, 'x/a?b#c')).pathname).toBe('/x/a%3Fb%23c');
  });

  it('builds bucket URLs with RFC 3986 query values (space is %20, never +)', () => {
    expect(bucketUrl(aws, { 'list-type': '2', prefix: 'a b+', 'continuation-token': 'x/y=', 'max-keys': undefined })).toBe(
      'https://avatars.s3.us-east-1.amazonaws.com/?list-type=2&prefix=a%20b%2B&continuation-token=x%2Fy%3D',
    );
    expect(bucketUrl(r2, { 'list-type': '2' })).toBe('https://0123abcd.r2.cloudflarestorage.com/avatars?list-type=2');
  });

  it('knows which hosts cannot take a bucket subdomain', () => {
    expect(['127.0.0.1', 'localhost', '[::1]', '::1'].every(isIpOrLocalhost)).toBe(true);
    expect(['s3.amazonaws.com', 'acc.r2.cloudflarestorage.com', 'minio.internal'].some(isIpOrLocalhost)).toBe(false);
  });

  it('defaults to path-style for R2 and loopback, virtual-hosted for AWS', () => {
    expect(['acc.r2.cloudflarestorage.com', 'acc.eu.r2.cloudflarestorage.com', '127.0.0.1'].every(defaultPathStyle)).toBe(true);
    expect(['s3.us-east-1.amazonaws.com', 's3.amazonaws.com'].some(defaultPathStyle)).toBe(false);
  });
});
