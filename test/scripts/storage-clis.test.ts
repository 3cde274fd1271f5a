import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StorageCliIo } from '../../scripts/lib/cli-io.js';
import { storageEnvFromSpec } from '../../scripts/lib/store-spec.js';
import { runMigrateCli } from '../../scripts/migrate/cli.js';
import { runPrecomputeCli } from '../../scripts/precompute/cli.js';
import type { ObjectStore } from '../../src/core/ports.js';
import { originalKey, tombstoneKey, variantPrefix } from '../../src/core/storage-keys.js';
import { createS3Store } from '../../src/storage/s3-store.js';
import { S3RVER_KEY, type S3rverHandle, startS3rver } from '../storage/s3rver.js';
import { countingRenderer } from '../support/node-host.js';
import { freePort } from '../../scripts/lib/free-port.js';

const SAMPLES = new URL('../../samples/demo/', import.meta.url);

let s3: S3rverHandle;
let dir: string;
const bucket = (name: string) => createS3Store({ endpoint: s3.endpoint, region: 'us-east-1', bucket: name, ...S3RVER_KEY });
const s3Env = (prefix: string, name: string) => ({
  [`${prefix}S3_ENDPOINT`]: s3.endpoint,
  [`${prefix}S3_BUCKET`]: name,
  [`${prefix}S3_ACCESS_KEY_ID`]: S3RVER_KEY.accessKeyId,
  [`${prefix}S3_SECRET_ACCESS_KEY`]: S3RVER_KEY.secretAccessKey,
});
const keysOf = async (store: ObjectStore, prefix = '') => (await store.list(prefix)).keys;

function io(env: Record<string, string>, extra: Partial<StorageCliIo> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const progress: string[] = [];
  const value: StorageCliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env, progress: { write: (t) => progress.push(t), isTTY: false }, ...extra };
  return { io: value, out, err, progress, text: () => out.join('\n') };
}

beforeAll(async () => {
  s3 = await startS3rver(['src', 'dst', 'dst2', 'pre']);
  dir = await mkdtemp(join(tmpdir(), 'avatar-edge-clis-'));
});
afterAll(async () => {
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('store specs (--from / --to)', () => {
  it('read prefixed variables, directories and the service’s own variables', () => {
    const env = { SRC_S3_BUCKET: 'a', SRC_S3_ACCESS_KEY_ID: 'k', STORAGE: 'fs', OTHER: 'x' };
    expect(storageEnvFromSpec('SRC_', env)).toEqual({ STORAGE: 's3', S3_BUCKET: 'a', S3_ACCESS_KEY_ID: 'k' });
    expect(storageEnvFromSpec('env:SRC_', env)).toMatchObject({ STORAGE: 's3' });
    expect(storageEnvFromSpec('fs:/tmp/x', env)).toEqual({ STORAGE: 'fs', DATA_DIR: '/tmp/x' });
    expect(storageEnvFromSpec('env:', env)).toBe(env);
    expect(() => storageEnvFromSpec('NOPE_', env)).toThrow(/no NOPE_STORAGE/);
    expect(() => storageEnvFromSpec('bucket-name', env)).toThrow(/not a store/);
  });
});

describe('npm run migrate (two s3rver buckets)', () => {
  const src = () => bucket('src');
  const env = () => ({ ...s3Env('SRC_', 'src'), ...s3Env('DST_', 'dst') });
  const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

  beforeAll(async () => {
    const s = src();
    for (let i = 1; i <= 6; i++) await s.put(originalKey('demo', `u-${i}`), bytes(1000 + i * 100, i), { contentType: 'image/jpeg', metadata: { version: String(i) } });
    await s.put(originalKey('demo', 'x-1'), bytes(500, 99), { contentType: 'image/png' });
    await s.put(tombstoneKey('demo', 't-1'), new TextEncoder().encode('{"reason":"test"}'), { contentType: 'application/json' });
    await s.put(`${variantPrefix('demo', 'u-1')}64x64-cover-q75.webp`, bytes(100, 7), { contentType: 'image/webp' });
    await s.put(originalKey('other', 'u-9'), bytes(700, 9), { contentType: 'image/jpeg' });
    await s.put(originalKey('other', 'u-10'), bytes(800, 10), { contentType: 'image/jpeg' });
  });

  it('--help exits 0; missing or bad arguments exit 2', async () => {
    const help = io({});
    expect(await runMigrateCli(['--help'], help.io)).toBe(0);
    expect(help.text()).toMatch(/Usage: npm run migrate/);
    const bad = io(env());
    expect(await runMigrateCli(['--from', 'SRC_'], bad.io)).toBe(2);
    expect(await runMigrateCli(['--from', 'SRC_', '--to', 'SRC_'], bad.io)).toBe(2);
    expect(bad.err.join('\n')).toMatch(/--from and --to are required[\s\S]*same store/);
  });

  it('--dry-run reports what it would copy and writes nothing', async () => {
    const r = io(env());
    const resume = join(dir, 'dry.checkpoint');
    expect(await runMigrateCli(['--from', 'SRC_', '--to', 'DST_', '--dry-run', '--resume-file', resume], r.io)).toBe(0);
    // 9 originals + 1 tombstone; the stored variant is not copied by default.
    expect(r.text()).toMatch(/dry run: listed 10, would copy 10 \(.+\), skipped 0/);
    expect(await keysOf(bucket('dst'))).toEqual([]);
    await expect(readFile(resume)).rejects.toThrow(/ENOENT/);
  });

  it('resumes an interrupted migration without copying anything twice, then skips identical copies', async () => {
    const resume = join(dir, 'demo.checkpoint');
    const controller = new AbortController();
    let puts = 0;
    const counting =
      (abortAfter?: number) =>
      ({ from, to }: { from: ObjectStore; to: ObjectStore }) => ({
        from,
        to: {
          ...to,
          put: async (key: string, body: Uint8Array, o?: Parameters<ObjectStore['put']>[2]) => {
            await to.put(key, body, o);
            if (++puts === abortAfter) controller.abort();
          },
        },
      });

    // Run 1: stopped (as by Ctrl-C) after the third copy.
    const first = io(env(), { signal: controller.signal });
    const code1 = await runMigrateCli(['--from', 'SRC_', '--to', 'DST_', '--tenant', 'demo', '--concurrency', '1', '--resume-file', resume], { ...first.io, wrapStores: counting(3) });
    expect(code1).toBe(130);
    expect(first.text()).toMatch(/copied 3, skipped 0, verified 3, failed 0/);
    expect(first.text()).toMatch(/interrupted/);
    const recorded = (await readFile(resume, 'utf8')).split('\n').filter((l) => l && !l.startsWith('#'));
    expect(recorded).toHaveLength(3);

    // Run 2: same checkpoint; only the rest is read and written.
    puts = 0;
    const second = io(env());
    expect(await runMigrateCli(['--from', 'SRC_', '--to', 'DST_', '--tenant', 'demo', '--resume-file', resume], { ...second.io, wrapStores: counting() })).toBe(0);
    expect(second.text()).toMatch(/listed 8, copied 5, skipped 3, verified 5, failed 0, bytes \d+/);
    expect(puts).toBe(5);
    expect(second.progress.join('')).toMatch(/keys: 8\/8 \(100%\)/);

    const dst = bucket('dst');
    expect(await keysOf(dst, 'originals/demo/')).toHaveLength(7);
    expect(await keysOf(dst, 'tombstones/demo/')).toHaveLength(1);
    expect(await keysOf(dst, 'variants/')).toEqual([]);
    const copy = await dst.get(originalKey('demo', 'u-4'));
    expect(copy).toMatchObject({ contentType: 'image/jpeg', metadata: { version: '4' } });
    expect(Array.from(copy!.body)).toEqual(Array.from(bytes(1400, 4)));

    // Run 3: no checkpoint; every key is already identical at the destination.
    puts = 0;
    const third = io(env());
    expect(await runMigrateCli(['--from', 'SRC_', '--to', 'DST_', '--tenant', 'demo', '--prefix', 'u-'], { ...third.io, wrapStores: counting() })).toBe(0);
    expect(third.text()).toMatch(/listed 6, copied 0, skipped 6, verified 6, failed 0/);
    expect(puts).toBe(0);
  });

  it('detects a corrupted copy: reported as failed, exit 1, not recorded as done', async () => {
    const resume = join(dir, 'other.checkpoint');
    // A destination that flips one byte of u-10 on the way in (a faulty proxy, a bad disk).
    const corrupting = ({ from, to }: { from: ObjectStore; to: ObjectStore }) => ({
      from,
      to: {
        ...to,
        put: (key: string, body: Uint8Array, o?: Parameters<ObjectStore['put']>[2]) => {
          const copy = body.slice();
          if (key.endsWith('/u-10')) copy[10] = copy[10]! ^ 0xff;
          return to.put(key, copy, o);
        },
      },
    });
    const r = io({ ...s3Env('SRC_', 'src'), ...s3Env('DST_', 'dst2') });
    expect(await runMigrateCli(['--from', 'SRC_', '--to', 'DST_', '--tenant', 'other', '--resume-file', resume], { ...r.io, wrapStores: corrupting })).toBe(1);
    expect(r.text()).toMatch(/listed 2, copied 1, skipped 0, verified 1, failed 1/);
    expect(r.text()).toMatch(/failed originals\/other\/[0-9a-f]{2}\/u-10: checksum mismatch after copy/);
    const recorded = (await readFile(resume, 'utf8')).split('\n').filter((l) => l && !l.startsWith('#'));
    expect(recorded).toEqual([originalKey('other', 'u-9')]);
  });
});

describe('npm run precompute (s3rver)', () => {
  const env = () => ({ AVATAR_CONFIG: '', STORAGE: 's3', ...s3Env('', 'pre') });
  const { counter, wrap } = countingRenderer();

  beforeAll(async () => {
    const pre = bucket('pre');
    const hopper = new Uint8Array(await readFile(new URL('hopper.jpg', SAMPLES)));
    await pre.put(originalKey('demo', 'u-1'), hopper, { contentType: 'image/jpeg' });
    // Uploaded originals carry their alpha flag; u-1 (seeded, say) has none and is sniffed.
    await pre.put(originalKey('demo', 'u-2'), new Uint8Array(await readFile(new URL('mysha.png', SAMPLES))), { contentType: 'image/png', metadata: { alpha: '1' } });
    await pre.put(originalKey('demo', 'x-3'), hopper, { contentType: 'image/jpeg' });
  });

  const run = async (...argv: string[]) => {
    const r = io(env());
    const code = await runPrecomputeCli(argv, { ...r.io, wrapRenderer: wrap });
    return { code, text: r.text(), err: r.err.join('\n'), progress: r.progress.join('') };
  };

  it('--help exits 0; an unknown tenant or a format the tenant lacks exits 2', async () => {
    expect((await run('--help')).text).toMatch(/Usage: npm run precompute/);
    expect((await run('--tenant', 'nope')).code).toBe(2);
    expect((await run('--tenant', 'demo', '--formats', 'gif')).code).toBe(2);
    expect((await run()).code).toBe(2);
  });

  it('--dry-run counts missing variants and writes nothing', async () => {
    const r = await run('--tenant', 'demo', '--prefix', 'u-', '--sizes', '32,64', '--dry-run');
    expect(r.code).toBe(0);
    expect(r.text).toMatch(/dry run: 2 images, 0 up to date, 8 variants missing, 0 present; nothing written/);
    expect(await keysOf(bucket('pre'), 'variants/')).toEqual([]);
    expect(counter.renders).toBe(0);
  });

  it('backfills what is missing, picks JPEG or PNG by alpha, and skips what is stored', async () => {
    const r = await run('--tenant', 'demo', '--prefix', 'u-', '--sizes', '32,64');
    expect(r.code).toBe(0);
    expect(r.text).toMatch(/2 images, 0 up to date, 8 variants rendered \(.+\), 0 already stored, 0 failed/);
    expect(r.progress).toMatch(/images: 2\/2 \(100%\)/);
    expect(counter.renders).toBe(8);
    const names = async (id: string) => (await keysOf(bucket('pre'), variantPrefix('demo', id))).map((k) => k.split('/').pop()).sort();
    expect(await names('u-1')).toEqual(['32x32-cover-q75.jpeg', '32x32-cover-q75.webp', '64x64-cover-q75.jpeg', '64x64-cover-q75.webp']);
    expect(await names('u-2')).toEqual(['32x32-cover-q100.png', '32x32-cover-q75.webp', '64x64-cover-q100.png', '64x64-cover-q75.webp']);
    expect(await names('x-3')).toEqual([]);

    // Again: nothing to do. Then one variant lost: only that one is rendered.
    expect((await run('--tenant', 'demo', '--prefix', 'u-', '--sizes', '32,64')).text).toMatch(/2 images, 2 up to date, 0 variants rendered .*, 8 already stored/);
    await bucket('pre').delete(`${variantPrefix('demo', 'u-2')}64x64-cover-q100.png`);
    const again = await run('--tenant', 'demo', '--sizes', '32,64', '--formats', 'png', '--prefix', 'u-2');
    expect(again.text).toMatch(/1 images, 0 up to date, 1 variants rendered .*, 1 already stored/);
    expect(counter.renders).toBe(9);
  });
});

describe('a store that fails before anything is done: one line, exit 1, no stack trace', () => {
  let closed: number; // a loopback port nothing listens on
  beforeAll(async () => {
    closed = await freePort();
  });
  const cases = () => [
    { what: 'an unknown access key id', env: (p: string) => ({ ...s3Env(p, 'src'), [`${p}S3_ACCESS_KEY_ID`]: 'NOT-A-KEY-ID' }), code: 'InvalidAccessKeyId', bucket: 'src' },
    { what: 'a missing bucket', env: (p: string) => s3Env(p, 'no-such-bucket'), code: 'NoSuchBucket', bucket: 'no-such-bucket' },
    { what: 'an unreachable endpoint', env: (p: string) => ({ ...s3Env(p, 'src'), [`${p}S3_ENDPOINT`]: `http://127.0.0.1:${closed}` }), code: 'NetworkError', bucket: 'src' },
  ];

  it('precompute names the store, the bucket and the S3 code', async () => {
    for (const c of cases()) {
      const r = io({ AVATAR_CONFIG: '', STORAGE: 's3', ...c.env('') });
      expect(await runPrecomputeCli(['--tenant', 'demo'], r.io), c.what).toBe(1);
      const lines = r.err.filter((l) => l.startsWith('precompute: the store failed'));
      expect(lines, c.what).toHaveLength(1);
      expect(lines[0]).toContain(`bucket ${c.bucket}`);
      expect(lines[0]).toContain(c.code);
      expect(lines[0]).not.toMatch(/\n|    at |S3RVER/);
      expect(r.out).toEqual([]);
    }
  });

  it('migrate says whether --from or --to failed', async () => {
    for (const c of cases()) {
      const from = io({ ...c.env('SRC_'), ...s3Env('DST_', 'dst2') });
      expect(await runMigrateCli(['--from', 'SRC_', '--to', 'DST_'], from.io), c.what).toBe(1);
      expect(from.err.at(-1)).toMatch(new RegExp(`^migrate: --from store failed \\(s3 .* bucket ${c.bucket} .*\\): .*${c.code}`));
      expect(from.err.join('\n')).not.toMatch(/    at /);
    }
    // The destination is only read per key: a failing one fails every key, reported per key with its code.
    const to = io({ ...s3Env('SRC_', 'src'), ...s3Env('DST_', 'no-such-bucket') });
    expect(await runMigrateCli(['--from', 'SRC_', '--to', 'DST_', '--tenant', 'other'], to.io)).toBe(1);
    expect(to.text()).toMatch(/failed originals\/other\/[0-9a-f]{2}\/u-9: .*NoSuchBucket/);
  });
});
