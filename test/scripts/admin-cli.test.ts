import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdminCli } from '../../scripts/admin/cli.js';
import { serve } from '../../src/hosts/node/http-adapter.js';
import { createAdminService } from '../../src/core/admin/admin-service.js';
import { createCachePurger } from '../../src/core/purge/purger.js';
import { errorResponse, isHttpError } from '../../src/core/errors.js';
import { createAdminRoutes } from '../../src/http/admin-routes.js';
import { adminFixture, TOKEN } from '../core/admin/fixture.js';

/** The CLI against the real admin API over loopback HTTP (in-memory store, stand-in renderer). */
describe('admin CLI against a running service', () => {
  let f: ReturnType<typeof adminFixture>;
  let server: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    f = adminFixture();
    server = await serve(f.app.fetch, { host: '127.0.0.1', port: 0 });
  });
  afterAll(() => server?.close());

  async function cli(...argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runAdminCli([...argv, '--url', server.url], { out: (l) => out.push(l), err: (l) => err.push(l), env: { AVATAR_ADMIN_TOKEN: TOKEN } });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('--help prints usage and exits 0; no command exits 2', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Usage: npm run admin/);
    expect(await runAdminCli([], { out: () => {}, err: () => {}, env: {} })).toBe(2);
  });

  it('takedown: done, with verification and audit id; then restore', async () => {
    await f.seed('demo', 'cli-1');
    expect((await f.get('/demo/cli-1/64.webp')).status).toBe(200);
    const r = await cli('takedown', 'demo/cli-1', '--reason', 'DMCA', '--ticket', 'LEGAL-9');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/takedown demo\/cli-1: done/);
    expect(r.out).toMatch(/verified (\d+)\/\1 URLs answer 410, 0 objects left/);
    expect(r.out).toMatch(/audit \d{8}T\d{9}Z-/);
    expect((await f.get('/demo/cli-1/64.webp')).status).toBe(410);

    const back = await cli('restore', 'demo/cli-1', '--reason', 'counter-notice');
    expect(back.code).toBe(0);
    expect(back.out).toMatch(/under LEGAL-9/);
    expect((await cli('restore', 'demo/cli-1', '--reason', 'again')).code).toBe(1); // NOT_TAKEN_DOWN
  });

  it('exit 3 for a wrong token, 4 when the service is unreachable, 2 for bad input', async () => {
    const wrong = await runAdminCli(['purge', 't:demo', '--url', server.url], { out: () => {}, err: () => {}, env: { AVATAR_ADMIN_TOKEN: 'nope' } });
    expect(wrong).toBe(3);
    const down = await runAdminCli(['purge', 't:demo', '--url', 'http://127.0.0.1:9'], { out: () => {}, err: () => {}, env: { AVATAR_ADMIN_TOKEN: TOKEN } });
    expect(down).toBe(4);
    expect((await cli('takedown', 'demo/x', '--reason', 'r')).code).toBe(2); // no --ticket
    expect((await cli('takedown', 'demo', '--reason', 'r', '--ticket', 't')).code).toBe(2);
    expect((await cli('purge', 'not-a-key')).code).toBe(2); // the service's 400
    expect((await cli('erase', 'demo', '--all', '--reason', 'r', '--ticket', 't')).code).toBe(2); // no --confirm
    expect((await cli('frobnicate')).code).toBe(2);
  });

  it('purges many keys in chunks with progress', async () => {
    const keys = Array.from({ length: 2_100 }, (_, i) => `i:demo/k${i}`);
    const r = await cli('purge', ...keys, '--reason', 'bulk');
    expect(r.code).toBe(0);
    expect(r.err.split('\n')).toEqual(['purge: 1000/2100 keys (0 failed)', 'purge: 2000/2100 keys (0 failed)', 'purge: 2100/2100 keys (0 failed)']);
    expect(r.out).toMatch(/purged 2100\/2100 keys; audit \S+, \S+, \S+$/);
  });

  it('erases ids in chunks and a prefix until done', async () => {
    for (const id of ['g-1', 'g-2', 'h-1']) await f.seed('acme', id);
    const byIds = await cli('erase', 'acme', '--ids', 'h-1,zz-9', '--reason', 'GDPR', '--ticket', 'G-1');
    expect(byIds.code).toBe(0);
    expect(byIds.err).toBe('erase: 2/2 ids sent, 2 erased');
    const byPrefix = await cli('erase', 'acme', '--prefix', 'g-', '--reason', 'GDPR', '--ticket', 'G-2');
    expect(byPrefix.code).toBe(0);
    expect(byPrefix.out).toMatch(/erase acme: done, 2 images erased/);
    expect(f.keys('originals/acme/')).toEqual([]);
  });

  it('prints the audit log newest first', async () => {
    const r = await cli('audit', '--limit', '3');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/ ok +erase +admin-1 +acme\/g-\* +\[G-2\] +GDPR/);
    const json = await cli('audit', '--all', '--limit', '2', '--json');
    const all = JSON.parse(json.out);
    // takedown, restore, 3 purge chunks, 2 erasures (failed calls before the service wrote nothing).
    expect(all).toHaveLength(7);
    expect(all.map((e: { when: string }) => e.when)).toEqual([...all.map((e: { when: string }) => e.when)].sort().reverse());
  });
});

/**
 * The CLI against a service that splits takedowns and erasures over several calls, as Fastly
 * does when one does not fit its per-execution backend request limit (202 + `next`).
 */
describe('admin CLI against a service that splits removals', () => {
  let f: ReturnType<typeof adminFixture>;
  let server: Awaited<ReturnType<typeof serve>>;
  let stuck: Awaited<ReturnType<typeof serve>>;
  const calls: string[] = [];
  beforeAll(async () => {
    f = adminFixture();
    const service = createAdminService({ store: f.store, purger: createCachePurger(f.cache), config: f.config, fetch: f.app.fetch, splitRemoval: true, maxImagesPerCall: 1 });
    const routes = createAdminRoutes({ service, tokens: f.config.admin.tokens });
    server = await serve(
      async (req) => {
        calls.push(new URL(req.url).pathname);
        try {
          return (await routes(req)) ?? new Response(null, { status: 404 });
        } catch (err) {
          if (isHttpError(err)) return errorResponse(err);
          throw err;
        }
      },
      { host: '127.0.0.1', port: 0 },
    );
    // A service that never finishes: the CLI must stop and say so.
    stuck = await serve(
      async () => new Response(JSON.stringify({ ok: false, more: true, done: ['tombstone on primary'], next: { id: 'x-1' } }), { status: 202, headers: { 'content-type': 'application/json' } }),
      { host: '127.0.0.1', port: 0 },
    );
  });
  afterAll(() => Promise.all([server?.close(), stuck?.close()]));

  async function cli(url: string, ...argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runAdminCli([...argv, '--url', url], { out: (l) => out.push(l), err: (l) => err.push(l), env: { AVATAR_ADMIN_TOKEN: TOKEN } });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('takedown: repeats the call with `next` until done, with a progress line per part', async () => {
    await f.seed('demo', 's-1');
    expect((await f.get('/demo/s-1/64.webp')).status).toBe(200);
    calls.length = 0;
    const r = await cli(server.url, 'takedown', 'demo/s-1', '--reason', 'DMCA', '--ticket', 'L-1');
    expect(r.code).toBe(0);
    expect(calls).toEqual(['/_admin/takedown', '/_admin/takedown']);
    expect(r.err).toBe('takedown demo/s-1: call 1 done (tombstone on primary, delete on primary, purge); continuing');
    expect(r.out).toMatch(/takedown demo\/s-1: done \(in 2 calls\)/);
    expect(r.out).toMatch(/deleted 2 objects/);
    expect(r.out).toMatch(/verified (\d+)\/\1 URLs answer 410, 0 objects left/);
    expect(r.out).toMatch(/audit \S+, \S+$/m);
    expect((await f.get('/demo/s-1/64.webp')).status).toBe(410);
  });

  it('erase by ids and by prefix: every image in its parts, until done', async () => {
    for (const id of ['e-1', 'e-2', 'q-1', 'q-2']) await f.seed('acme', id);
    const byIds = await cli(server.url, 'erase', 'acme', '--ids', 'e-1,e-2', '--reason', 'GDPR', '--ticket', 'G-1');
    expect(byIds.code).toBe(0);
    expect(byIds.err.split('\n').filter((l) => l.startsWith('erase: '))).toEqual(['erase: 1/2 ids sent, 1 erased', 'erase: 2/2 ids sent, 2 erased']);
    const byPrefix = await cli(server.url, 'erase', 'acme', '--prefix', 'q-', '--reason', 'GDPR', '--ticket', 'G-2');
    expect(byPrefix.code).toBe(0);
    expect(byPrefix.out).toMatch(/erase acme: done, 2 images erased/);
    expect(f.keys('originals/acme/')).toEqual([]);
  });

  it('stops after a bounded number of calls when the service keeps answering "more", and exits 1', async () => {
    const r = await cli(stuck.url, 'takedown', 'demo/x-1', '--reason', 'r', '--ticket', 't');
    expect(r.code).toBe(1);
    expect(r.err.split('\n').filter((l) => l.includes('continuing'))).toHaveLength(5);
    expect(r.err).toMatch(/admin: takedown demo\/x-1: still not complete after 5 calls/);
    expect(r.out).toMatch(/INCOMPLETE/);
  });
});
