import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdminCli } from '../../scripts/admin/cli.js';
import { loadServiceConfig } from '../../src/core/config/service-config.js';
import type { ObjectStore, Renderer } from '../../src/core/ports.js';
import { originalKey, tenantPrefix, tombstoneKey, variantPrefix } from '../../src/core/storage-keys.js';
import { startNodeApp } from '../../src/hosts/node/create-node-app.js';
import { createFailoverStore } from '../../src/storage/failover-store.js';
import { createS3Store } from '../../src/storage/s3-store.js';

/**
 * Takedowns under store faults, against two real S3-compatible servers (primary and failover
 * secondary) on loopback, each its own process, one of them killed in the middle. The server
 * is whatever `startServer` starts (s3rver here; MinIO can run the same suite).
 */

/** A running S3-compatible server the suite can kill and bring back. */
export interface FaultServer {
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Kills the server process at once (by pid); its data stays. */
  kill(): Promise<void>;
  /** Starts it again on the same endpoint with the same data. */
  restart(): Promise<void>;
  /** Stops it for good and removes its data. */
  stop(): Promise<void>;
}

export type StartFaultServer = (buckets: string[]) => Promise<FaultServer>;

const TOKEN = 'fault-suite-admin-token-0123456789abcdef';
const LEGAL = { reason: 'DMCA notice', ticket: 'LEGAL-14' };
const SAMPLE = new URL('../../samples/demo/hopper.jpg', import.meta.url);

/** Waits for a condition the test cannot be told about (e.g. another request's progress); bounded. */
async function until(what: string, cond: () => Promise<boolean> | boolean, maxMs = 30_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A renderer that holds renders from the `from`-th on (1-based) until released. */
function gatedRenderer() {
  const gate = { count: 0, from: Infinity, held: 0, release: () => {}, opened: Promise.resolve() };
  const arm = (from: number) => {
    gate.count = 0;
    gate.held = 0;
    gate.from = from;
    gate.opened = new Promise<void>((r) => (gate.release = r));
  };
  const wrap = (r: Renderer): Renderer => ({
    async render(src, v) {
      if (++gate.count >= gate.from) {
        gate.held++;
        await gate.opened;
      }
      return r.render(src, v);
    },
  });
  return { gate, arm, wrap };
}

export function runTakedownFaultSuite(name: string, startServer: StartFaultServer): void {
  describe(`takedowns under store faults (${name}: primary and secondary servers)`, () => {
    let primary: FaultServer;
    let secondary: FaultServer;
    let hot: ObjectStore;
    let archive: ObjectStore;
    let host: Awaited<ReturnType<typeof startNodeApp>>;
    let sample: Uint8Array;
    const renders = gatedRenderer();

    const s3 = (server: FaultServer, bucket: string) => createS3Store({ endpoint: server.endpoint, region: 'us-east-1', bucket, ...server.credentials, timeoutMs: 5_000 });
    const admin = async (path: string, body?: unknown) => {
      const res = await fetch(`${host.url}/_admin/${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: await res.json() };
    };
    const get = async (path: string) => {
      const res = await fetch(host.url + path, { headers: { accept: 'image/webp,*/*' } });
      return { status: res.status, type: res.headers.get('content-type'), cc: res.headers.get('cache-control'), bytes: new Uint8Array(await res.arrayBuffer()) };
    };
    async function cli(...argv: string[]) {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runAdminCli([...argv, '--url', host.url], { out: (l) => out.push(l), err: (l) => err.push(l), env: { AVATAR_ADMIN_TOKEN: TOKEN } });
      return { code, out, err };
    }
    /** Every object of the image in one store (original, variants, tombstone). */
    async function objectsOf(store: ObjectStore, tenant: string, id: string): Promise<string[]> {
      const keys: string[] = [];
      for (const kind of ['originals', 'tombstones'] as const) {
        const all = (await store.list(tenantPrefix(kind, tenant))).keys;
        keys.push(...all.filter((k) => k === (kind === 'originals' ? originalKey(tenant, id) : tombstoneKey(tenant, id))));
      }
      keys.push(...(await store.list(variantPrefix(tenant, id))).keys);
      return keys.sort();
    }
    /** An original as replication would have it: in both buckets. */
    async function seedBoth(tenant: string, id: string) {
      for (const store of [hot, archive]) await store.put(originalKey(tenant, id), sample, { contentType: 'image/jpeg' });
    }

    beforeAll(async () => {
      sample = new Uint8Array(await readFile(SAMPLE));
      [primary, secondary] = await Promise.all([startServer(['hot']), startServer(['archive'])]);
      hot = s3(primary, 'hot');
      archive = s3(secondary, 'archive');
      host = await startNodeApp({
        config: loadServiceConfig({
          tenants: { demo: { breakpoints: [64, 128], fallback: 'generated' }, acme: { breakpoints: [64, 128] } },
          admin: { tokens: { legal: TOKEN } },
        }),
        store: createFailoverStore(s3(primary, 'hot'), s3(secondary, 'archive')),
        samplesDir: null,
        log: () => {},
        wrapRenderer: renders.wrap,
      });
    }, 120_000);
    afterAll(async () => {
      renders.gate.release();
      await host?.close();
      await Promise.all([primary?.stop(), secondary?.stop()]);
    });

    it('secondary down: the takedown answers 500 INCOMPLETE naming the step and store, the CLI exits 1 with one line, the audit says incomplete; once it is back, running it again completes it', async () => {
      await seedBoth('demo', 'dmca-1');
      expect((await get('/demo/dmca-1/64.webp')).status).toBe(200);
      // The archive has a rendered copy too (replicated, or written while it was primary).
      await archive.put(`${variantPrefix('demo', 'dmca-1')}128x128-cover-q75.webp`, sample, { contentType: 'image/webp' });

      await secondary.kill();
      const first = await admin('takedown', { tenant: 'demo', id: 'dmca-1', ...LEGAL });
      expect(first.status).toBe(500);
      expect(first.body).toMatchObject({ code: 'INCOMPLETE', ok: false });
      // The step, the store, the bucket and the store's error code, in one line.
      expect(first.body.message).toMatch(/^incomplete: tombstone on secondary: S3 put "tombstones\/demo\/[0-9a-f]{2}\/dmca-1" in bucket archive: no response, .*\[NetworkError\]/);
      expect(first.body.verification.stores).toEqual([{ store: 'primary', tombstone: true, remaining: [] }, expect.objectContaining({ store: 'secondary', error: expect.any(String) })]);
      // What the primary serves is already gone.
      expect((await get('/demo/dmca-1/64.webp')).status).toBe(410);

      const again = await cli('takedown', 'demo/dmca-1', '--reason', LEGAL.reason, '--ticket', LEGAL.ticket);
      expect(again.code).toBe(1);
      expect(again.out[0]).toBe('takedown demo/dmca-1: INCOMPLETE');
      expect(again.err).toHaveLength(1);
      expect(again.err[0]).toMatch(/^admin: takedown demo\/dmca-1: incomplete: tombstone on secondary: .*; repeat the request/);

      const audit = (await admin('audit')).body.entries;
      expect(audit.slice(0, 2).map((e: { action: string; ok: boolean }) => [e.action, e.ok])).toEqual([
        ['takedown', false],
        ['takedown', false],
      ]);
      expect(audit[0].incomplete).toMatch(/^tombstone on secondary: /);
      expect(audit[0].verification.ok).toBe(false);

      await secondary.restart();
      // The archive still holds the image: a takedown that "succeeded" on the primary alone would leave this.
      expect(await objectsOf(archive, 'demo', 'dmca-1')).toEqual([originalKey('demo', 'dmca-1'), `${variantPrefix('demo', 'dmca-1')}128x128-cover-q75.webp`]);

      const done = await cli('takedown', 'demo/dmca-1', '--reason', LEGAL.reason, '--ticket', LEGAL.ticket);
      expect(done.err).toEqual([]);
      expect(done.code).toBe(0);
      expect(done.out[0]).toBe('takedown demo/dmca-1: done');
      for (const store of [hot, archive]) expect(await objectsOf(store, 'demo', 'dmca-1')).toEqual([tombstoneKey('demo', 'dmca-1')]);
      const entry = (await admin('audit')).body.entries[0];
      expect(entry).toMatchObject({ action: 'takedown', ok: true, verification: { ok: true, tombstone: true, remaining: [] } });
      expect(entry.incomplete).toBeUndefined();
    }, 120_000);

    it('primary down after a takedown: reads fall over to the secondary and its tombstone answers 410', async () => {
      await primary.kill();
      try {
        // URLs never requested before: nothing cached, every one is a store read on the secondary.
        for (const path of ['/demo/dmca-1?w=77', '/demo/dmca-1/96.jpeg', '/demo/dmca-1']) {
          const r = await get(path);
          expect(r.status, path).toBe(410);
          expect(JSON.parse(new TextDecoder().decode(r.bytes))).toEqual({ code: 'GONE', message: 'this image has been removed' });
        }
        // The control: an id without a tombstone still gets its generated avatar from the same failover path.
        const control = await get('/demo/never-uploaded-1?w=77');
        expect(control.status).toBe(200);
        expect(control.type).toBe('image/webp');
        // The audit log lives on the primary (listing does not fall over): its failure is named as such.
        const audit = await cli('audit');
        expect(audit.code).toBe(1);
        expect(audit.err).toHaveLength(1);
        expect(audit.err[0]).toMatch(/^admin: AUDIT_UNAVAILABLE: the audit log could not be read from the store: S3 list "audit\/.*" in bucket hot: no response/);
      } finally {
        await primary.restart();
      }
    }, 60_000);

    it('a prefix erasure finds and removes images on both stores, also one only the secondary still holds', async () => {
      await seedBoth('acme', 'gdpr-1');
      await archive.put(originalKey('acme', 'gdpr-2'), sample, { contentType: 'image/jpeg' }); // lost from the primary
      await archive.put(`${variantPrefix('acme', 'gdpr-2')}64x64-cover-q75.webp`, sample, { contentType: 'image/webp' });
      const erased = await cli('erase', 'acme', '--prefix', 'gdpr-', '--reason', 'GDPR art. 17', '--ticket', 'GDPR-14');
      expect(erased.code).toBe(0);
      expect(erased.out.at(-1)).toMatch(/^erase acme: done, 2 images erased/);
      for (const id of ['gdpr-1', 'gdpr-2']) for (const store of [hot, archive]) expect(await objectsOf(store, 'acme', id)).toEqual([tombstoneKey('acme', id)]);
    }, 60_000);

    it('a render in flight when the takedown starts is neither stored nor served: 410, nothing written back', async () => {
      await seedBoth('demo', 'render-1');
      renders.arm(1);
      const inflight = get('/demo/render-1/128.webp');
      await until('the render to start', () => renders.gate.held === 1);
      const takedown = admin('takedown', { tenant: 'demo', id: 'render-1', ...LEGAL });
      await until('the tombstone on both stores', async () => (await hot.head(tombstoneKey('demo', 'render-1'))) !== null && (await archive.head(tombstoneKey('demo', 'render-1'))) !== null);
      renders.gate.release();

      const served = await inflight;
      expect(served.status).toBe(410);
      expect(served.type).toMatch(/^application\/json/);
      const report = await takedown;
      expect(report.status).toBe(200);
      expect(report.body.verification).toMatchObject({ ok: true, remaining: [], tombstone: true });
      for (const store of [hot, archive]) expect(await objectsOf(store, 'demo', 'render-1')).toEqual([tombstoneKey('demo', 'render-1')]);
      renders.arm(Infinity);
    }, 60_000);

    it('an upload in flight when the takedown starts stores nothing after the tombstone, and a restore serves no old bytes', async () => {
      // Hold the upload at its second render: the original and the first variant are already stored.
      renders.arm(2);
      const upload = fetch(`${host.url}/_upload/acme/upload-1`, { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}` }, body: sample as Uint8Array<ArrayBuffer> }).then(async (r) => ({
        status: r.status,
        body: await r.json(),
      }));
      await until('the upload to store its original', async () => renders.gate.held >= 1 && (await hot.head(originalKey('acme', 'upload-1'))) !== null);
      const takedown = admin('takedown', { tenant: 'acme', id: 'upload-1', ...LEGAL });
      await until('the tombstone on both stores', async () => (await hot.head(tombstoneKey('acme', 'upload-1'))) !== null && (await archive.head(tombstoneKey('acme', 'upload-1'))) !== null);
      renders.gate.release();

      const uploaded = await upload;
      expect(uploaded.status).toBe(409);
      expect(uploaded.body).toMatchObject({ code: 'TAKEN_DOWN' });
      const report = await takedown;
      expect(report.status).toBe(200);
      expect(report.body.ok).toBe(true);
      for (const store of [hot, archive]) expect(await objectsOf(store, 'acme', 'upload-1')).toEqual([tombstoneKey('acme', 'upload-1')]);
      renders.arm(Infinity);

      const restored = await admin('restore', { tenant: 'acme', id: 'upload-1', reason: 'counter-notice' });
      expect(restored.status).toBe(200);
      for (const store of [hot, archive]) expect(await objectsOf(store, 'acme', 'upload-1')).toEqual([]);
      for (const path of ['/acme/upload-1/64.webp', '/acme/upload-1?w=128', '/acme/upload-1?w=50&fmt=jpeg']) expect((await get(path)).status, path).toBe(404);
    }, 60_000);
  });
}
