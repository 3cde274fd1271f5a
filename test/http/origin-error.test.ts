import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryCache } from '../../src/cache/memory-cache.js';
import { loadServiceConfig } from '../../src/core/config/service-config.js';
import type { Renderer } from '../../src/core/ports.js';
import { createApp } from '../../src/http/create-app.js';
import { createS3Store } from '../../src/storage/s3-store.js';
import { type StubServer, s3ErrorXml, startStubServer } from '../storage/stub-server.js';

// A store failure must reach the client as a gateway error with a stable code, never as a
// 500 and never with the store's details (bucket, key, S3 code, message).
describe('StorageError at the HTTP layer', () => {
  let stub: StubServer;
  let mode: 'unavailable' | 'denied' | 'hang' = 'unavailable';
  const logged: unknown[] = [];

  beforeAll(async () => {
    stub = await startStubServer((_req, res) => {
      if (mode === 'hang') return; // never answers
      const [status, code] = mode === 'unavailable' ? [503, 'ServiceUnavailable'] : [403, 'AccessDenied'];
      res.writeHead(status, { 'content-type': 'application/xml' });
      res.end(s3ErrorXml(code, 'secret-internal-detail for bucket private-avatars'));
    });
  });
  afterAll(() => stub?.stop());

  // Only the hanging origin relies on the timeout; the others get a generous one, so a loaded
  // machine (a slow loopback answer) is not mistaken for a timeout.
  const app = () => {
    const renderer: Renderer = { render: () => Promise.reject(new Error('no render expected')) };
    const store = createS3Store({
      endpoint: stub.endpoint,
      region: 'us-east-1',
      bucket: 'private-avatars',
      accessKeyId: 'AKIAEXAMPLE',
      secretAccessKey: 'example-secret',
      timeoutMs: mode === 'hang' ? 300 : 10_000,
    });
    const config = loadServiceConfig({ tenants: { demo: {} } });
    return createApp({ config, store, cache: createMemoryCache({ maxBytes: 1 << 20 }), renderer, log: (_m, err) => logged.push(err) });
  };

  const cases = [
    ['unavailable', 503, 'ORIGIN_UNAVAILABLE'],
    ['denied', 502, 'ORIGIN_UNAVAILABLE'],
    ['hang', 504, 'ORIGIN_TIMEOUT'],
  ] as const;
  for (const [m, status, code] of cases) {
    it(`answers ${status} ${code} when the origin is ${m}`, async () => {
      mode = m;
      logged.length = 0;
      const res = await app().fetch(new Request('http://localhost/demo/u-1/64.webp'));
      expect(res.status).toBe(status);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const text = await res.text();
      expect(Object.keys(JSON.parse(text))).toEqual(['code', 'message']);
      expect(JSON.parse(text).code).toBe(code);
      expect(text).not.toMatch(/private-avatars|secret|AccessDenied|ServiceUnavailable|S3|tombstones|u-1/);
      // The operator still sees what happened.
      expect(logged).toHaveLength(1);
      expect(String((logged[0] as Error).message)).toMatch(/private-avatars/);
    });
  }
});
