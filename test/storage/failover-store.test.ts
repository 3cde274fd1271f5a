import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectStore } from '../../src/core/ports.js';
import { createFailoverStore } from '../../src/storage/failover-store.js';
import { createFsStore } from '../../src/storage/fs-store.js';
import { type S3Config, createS3Store } from '../../src/storage/s3-store.js';
import { StorageError } from '../../src/storage/storage-error.js';
import { S3RVER_KEY, type S3rverHandle, startS3rver } from './s3rver.js';
import { type StubServer, s3ErrorXml, startStubServer } from './stub-server.js';

/**
 * Failover between two real loopback servers: a primary that misbehaves on purpose (a tiny
 * node:http server) and a secondary that is a real S3-compatible server (s3rver).
 */

let s3: S3rverHandle;
let unavailable: StubServer; // 503 SlowDown to everything
let notFound: StubServer; // 404 NoSuchKey to everything
let forbidden: StubServer; // 403 AccessDenied to everything
let silent: StubServer; // accepts, never answers
let secondaryCalls: string[];

const KEY = 'originals/acme/3f/u-42';
const BYTES = Uint8Array.from({ length: 64 }, (_, i) => 255 - i);

const s3cfg = (over: Partial<S3Config>): S3Config => ({ endpoint: s3.endpoint, region: 'us-east-1', bucket: 'archive', ...S3RVER_KEY, timeoutMs: 2000, ...over });
const primaryAt = (stub: StubServer, timeoutMs = 2000) => createS3Store(s3cfg({ endpoint: stub.endpoint, bucket: 'hot', timeoutMs }));
const secondary = () =>
  createS3Store(
    s3cfg({
      fetch: (req) => {
        secondaryCalls.push(`${req.method} ${new URL(req.url).pathname}`);
        return fetch(req);
      },
    }),
  );

function answering(status: number, code: string) {
  return startStubServer((req, res) => {
    res.writeHead(status, { 'content-type': 'application/xml' });
    res.end(req.method === 'HEAD' ? undefined : s3ErrorXml(code, `stub ${code}`));
  });
}

beforeAll(async () => {
  [s3, unavailable, notFound, forbidden, silent] = await Promise.all([
    startS3rver(['archive', 'hot']),
    answering(503, 'SlowDown'),
    answering(404, 'NoSuchKey'),
    answering(403, 'AccessDenied'),
    startStubServer(() => {}),
  ]);
  await createS3Store(s3cfg({})).put(KEY, BYTES, { contentType: 'image/jpeg', metadata: { version: '2' } });
});

afterAll(async () => {
  await Promise.all([s3, unavailable, notFound, forbidden, silent].map((s) => s?.stop()));
});

describe('failover store: reads', () => {
  beforeAll(() => {
    secondaryCalls = [];
  });

  it('falls through to the secondary when the primary answers 503', async () => {
    const seen: unknown[] = [];
    const store = createFailoverStore(primaryAt(unavailable), secondary(), { onFailover: (_op, _key, e) => seen.push(e) });
    const got = await store.get(KEY);
    expect(Array.from(got!.body)).toEqual(Array.from(BYTES));
    expect(got).toMatchObject({ contentType: 'image/jpeg', metadata: { version: '2' } });
    expect(await store.head(KEY)).toMatchObject({ size: 64, contentType: 'image/jpeg' });
    expect(seen).toHaveLength(2);
    expect(seen[0]).toMatchObject({ status: 503, code: 'SlowDown', retryable: true });
  });

  it('does NOT fall through on a 404: a missing object is an answer', async () => {
    secondaryCalls = [];
    const store = createFailoverStore(primaryAt(notFound), secondary());
    expect(await store.get(KEY)).toBeNull();
    expect(await store.head(KEY)).toBeNull();
    expect(secondaryCalls).toEqual([]);
  });

  it('does NOT fall through on a 403: bad credentials must surface, not be papered over', async () => {
    secondaryCalls = [];
    const store = createFailoverStore(primaryAt(forbidden), secondary());
    await expect(store.get(KEY)).rejects.toMatchObject({ status: 403, code: 'AccessDenied', retryable: false });
    expect(secondaryCalls).toEqual([]);
  });

  it('cuts a primary that never answers at its timeout, then reads the secondary', async () => {
    const store = createFailoverStore(primaryAt(silent, 250), secondary());
    const t0 = Date.now();
    const got = await store.get(KEY);
    const elapsed = Date.now() - t0;
    expect(got!.body.byteLength).toBe(64);
    expect(elapsed).toBeGreaterThanOrEqual(200);
    expect(elapsed).toBeLessThan(2000);
  });

  it('falls through when the primary refuses connections', async () => {
    const gone = await startStubServer(() => {});
    await gone.stop();
    const store = createFailoverStore(primaryAt(gone), secondary());
    expect((await store.get(KEY))!.body.byteLength).toBe(64);
  });

  it('passes ranges and conditions through to whichever store answers', async () => {
    const store = createFailoverStore(primaryAt(unavailable), secondary());
    const part = await store.get(KEY, { range: { start: 0, end: 3 } });
    expect(part).toMatchObject({ status: 206, size: 64 });
    expect(Array.from(part!.body)).toEqual([255, 254, 253, 252]);
    const etag = (await store.head(KEY))!.etag!;
    expect(await store.get(KEY, { ifNoneMatch: etag })).toMatchObject({ status: 304 });
  });

  it('throws the secondary error when both fail', async () => {
    const store = createFailoverStore(primaryAt(unavailable), primaryAt(silent, 200));
    await expect(store.get(KEY)).rejects.toMatchObject({ code: 'Timeout', retryable: true });
  });

  it('without a secondary, the primary error is the answer', async () => {
    await expect(createFailoverStore(primaryAt(unavailable)).get(KEY)).rejects.toBeInstanceOf(StorageError);
  });
});

describe('failover store: writes, deletes, lists', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'avatar-edge-failover-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes to the primary only, lists from the primary, deletes from both', async () => {
    const hot = createS3Store(s3cfg({ bucket: 'hot' }));
    const archive = createS3Store(s3cfg({}));
    const store = createFailoverStore(hot, archive);
    const key = 'variants/acme/3f/u-42/w128';
    await store.put(key, new Uint8Array([1, 2]), { contentType: 'image/webp' });
    expect(await hot.head(key)).not.toBeNull();
    expect(await archive.head(key)).toBeNull();
    expect((await store.list('variants/acme/')).keys).toEqual([key]);

    await archive.put(key, new Uint8Array([1, 2]));
    await store.delete(key);
    expect(await hot.head(key)).toBeNull();
    expect(await archive.head(key)).toBeNull();
  });

  it('a delete that fails on the secondary fails, after deleting on the primary', async () => {
    const hot = createS3Store(s3cfg({ bucket: 'hot' }));
    await hot.put('takedown/x', new Uint8Array([1]));
    const store = createFailoverStore(hot, primaryAt(unavailable));
    await expect(store.delete('takedown/x')).rejects.toMatchObject({ status: 503 });
    expect(await hot.head('takedown/x')).toBeNull();
  });

  it('emulates ranges over a store without native support (a directory as secondary)', async () => {
    const fs: ObjectStore = createFsStore(dir);
    await fs.put(KEY, BYTES, { contentType: 'image/jpeg' });
    const store = createFailoverStore(primaryAt(unavailable), fs);
    const part = await store.get(KEY, { range: { start: 60 } });
    expect(part).toMatchObject({ status: 206, size: 64 });
    expect(Array.from(part!.body)).toEqual([195, 194, 193, 192]);
  });
});
