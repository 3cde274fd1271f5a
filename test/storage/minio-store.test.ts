/**
 * The S3 store against MinIO, a server that verifies SigV4 signatures: the same contract as
 * against s3rver (s3-store.test.ts), plus what only a checking server can show: a wrong secret
 * is refused. Skipped locally without the minio binary (scripts/setup-minio.sh); run in CI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type S3Config, createS3Store } from '../../src/storage/s3-store.js';
import { StorageError } from '../../src/storage/storage-error.js';
import { type MinioHandle, RUN_MINIO, startMinio, warnIfMinioSkipped } from './minio.js';
import { runStoreContract } from './store-contract.js';

warnIfMinioSkipped('minio-store.test.ts');

describe.skipIf(!RUN_MINIO)('s3-store against MinIO', () => {
  let minio: MinioHandle;
  const BUCKET = 'avatars';
  const cfg = (over: Partial<S3Config> = {}): S3Config => ({
    endpoint: minio.endpoint,
    region: 'us-east-1',
    bucket: BUCKET,
    accessKeyId: minio.accessKeyId,
    secretAccessKey: minio.secretAccessKey,
    ...over,
  });

  beforeAll(async () => {
    minio = await startMinio([BUCKET]);
  }, 90_000);

  afterAll(async () => {
    await minio?.stop();
  });

  runStoreContract('s3-store (MinIO, path-style)', () => createS3Store(cfg()));

  it('refuses a wrong secret (SigV4 checked) with a typed 403 SignatureDoesNotMatch that leaks no credentials', async () => {
    const good = createS3Store(cfg());
    await good.put('sig/one', new Uint8Array([1, 2, 3]));
    const bad = createS3Store(cfg({ secretAccessKey: 'not-the-secret-at-all-0000' }));
    for (const op of [() => bad.get('sig/one'), () => bad.put('sig/two', new Uint8Array([1])), () => bad.list('sig/'), () => bad.delete('sig/one'), () => bad.deleteMany!(['sig/one'])]) {
      const err = await op().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect(err).toMatchObject({ name: 'StorageError', status: 403, code: 'SignatureDoesNotMatch', retryable: false });
      expect((err as Error).message).toMatch(/^S3 (get|put|list|delete|deleteMany) "(sig\/.*|1 keys)" in bucket avatars failed: 403 SignatureDoesNotMatch/);
      expect((err as Error).message).not.toMatch(/not-the-secret-at-all|avatar-edge-test-secret/);
    }
    // HEAD has no error body: the status alone says it.
    await expect(bad.head('sig/one')).rejects.toMatchObject({ status: 403, retryable: false });
    // Nothing was changed by the refused calls.
    expect(Array.from((await good.get('sig/one'))!.body)).toEqual([1, 2, 3]);
    expect(await good.head('sig/two')).toBeNull();
  });

  it('refuses an unknown access key id with 403 InvalidAccessKeyId', async () => {
    const bad = createS3Store(cfg({ accessKeyId: 'AKIAWRONGKEY0000' }));
    await expect(bad.get('sig/one')).rejects.toMatchObject({ status: 403, code: 'InvalidAccessKeyId', retryable: false });
  });

  it('sends byte ranges and If-None-Match that MinIO honours', async () => {
    const s = createS3Store(cfg());
    await s.put(
      'ranges/r1',
      Uint8Array.from({ length: 100 }, (_, i) => i),
    );
    const mid = await s.get('ranges/r1', { range: { start: 10, end: 19 } });
    expect(mid).toMatchObject({ status: 206, size: 100 });
    expect(Array.from(mid!.body)).toEqual(Array.from({ length: 10 }, (_, i) => 10 + i));
    const same = await s.get('ranges/r1', { ifNoneMatch: mid!.etag! });
    expect(same).toMatchObject({ status: 304 });
  });

  it('reports a server killed mid-run as a retryable NetworkError', async () => {
    const other = await startMinio(['second']);
    try {
      const s = createS3Store(cfg({ endpoint: other.endpoint, bucket: 'second' }));
      await s.put('k', new Uint8Array([1]));
      await other.kill();
      await expect(s.get('k')).rejects.toMatchObject({ status: 0, code: 'NetworkError', retryable: true });
    } finally {
      await other.stop();
    }
  }, 90_000);
});
