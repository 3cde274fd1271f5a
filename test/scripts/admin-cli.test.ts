import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdminCli } from '../../scripts/admin/cli.js';
import { serve } from '../../src/hosts/node/http-adapter.js';
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
    expect((await runAdminCli([], { out: () => {}, err: () => {}, env: {} }))).toBe(2);
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
