import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { ObjectStore } from '../../src/core/ports.js';
import { createReadiness } from '../../src/observability/readiness.js';
import { createS3Store } from '../../src/storage/s3-store.js';
import { createMemoryStore } from '../support/memory-store.js';

/** A loopback port that nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('readiness', () => {
  it('ready once the codecs are warm and the store answers; not while draining', async () => {
    let warm = false;
    const r = createReadiness({ codecsReady: () => warm, store: createMemoryStore().store, timeoutMs: 1000, cacheMs: 0 });
    expect(await r.check()).toEqual({ ready: false, checks: { codecs: 'warming', store: 'ok', shutdown: 'no' } });
    warm = true;
    expect((await r.check()).ready).toBe(true);
    r.setDraining();
    expect(await r.check()).toEqual({ ready: false, checks: { codecs: 'ok', store: 'ok', shutdown: 'draining' } });
  });

  it('a bucket nobody answers for is unreachable, and the failure is logged', async () => {
    const store = createS3Store({ endpoint: `http://127.0.0.1:${await closedPort()}`, region: 'us-east-1', bucket: 'avatars', accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'example-secret' });
    const logged: string[] = [];
    const r = createReadiness({ codecsReady: () => true, store, timeoutMs: 30_000, log: (m) => logged.push(m) });
    expect(await r.check()).toEqual({ ready: false, checks: { codecs: 'ok', store: 'unreachable', shutdown: 'no' } });
    expect(logged).toEqual(['readiness: store unreachable']);
  });

  it('a store that does not answer in time is a timeout', async () => {
    const hanging = { ...createMemoryStore().store, head: () => new Promise<never>(() => {}) } as ObjectStore;
    const r = createReadiness({ codecsReady: () => true, store: hanging, timeoutMs: 20 });
    expect((await r.check()).checks.store).toBe('timeout');
  });

  it('asks the store at most once per cacheMs, however often it is probed', async () => {
    let heads = 0;
    const store = { ...createMemoryStore().store, head: async () => (heads++, null) } as ObjectStore;
    const r = createReadiness({ codecsReady: () => true, store, timeoutMs: 1000, cacheMs: 60_000 });
    await Promise.all(Array.from({ length: 20 }, () => r.check()));
    await r.check();
    expect(heads).toBe(1);
  });
});
