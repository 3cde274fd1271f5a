import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdminCli } from '../../scripts/admin/cli.js';
import { startStubServer, type StubServer } from '../storage/stub-server.js';

const TOKEN = 'public-check-admin-token-0123456789ab';
const PROBES = [
  { path: '/demo/x', accept: 'image/webp,image/*,*/*' },
  { path: '/demo/x/64.webp', accept: '*/*' },
  { path: '/demo/x?w=64&h=64&fit=cover&q=75&fmt=webp', accept: '*/*' },
  { path: '/secure/x/64.webp', accept: '*/*' },
];

/**
 * The CLI's check from outside after a takedown that the service verified in its own cache:
 * a stand-in service (the real one is the Fastly service, tested under Viceroy) whose public
 * URLs answer what `status` says, so the CLI's verdict can be checked both ways.
 */
describe('admin CLI: takedown checked from outside', () => {
  let stub: StubServer;
  const status: Record<string, number> = {};
  const seenAccept: Record<string, string> = {};
  beforeAll(async () => {
    stub = await startStubServer((req, res) => {
      if (req.url === '/_admin/takedown') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            ok: true,
            deleted: ['originals/demo/00/x'],
            purge: [{ key: 'i:demo/x', ok: true }],
            verification: { ok: true, via: 'edge-cache', checked: 4, gone: 4, remaining: [], failures: [], probes: PROBES },
            errors: [],
            audit: { id: '20261202T000000000Z-abc123' },
          }),
        );
        return;
      }
      seenAccept[req.url!] = String(req.headers.accept);
      res.writeHead(status[req.url!] ?? 410, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end('{}');
    });
  });
  afterAll(() => stub?.stop());

  async function cli(...argv: string[]) {
    const out: string[] = [];
    const code = await runAdminCli(['takedown', 'demo/x', '--reason', 'r', '--ticket', 't', '--url', stub.endpoint, ...argv], {
      out: (l) => out.push(l),
      err: () => {},
      env: { AVATAR_ADMIN_TOKEN: TOKEN },
    });
    return { code, out: out.join('\n') };
  }

  it('requests every URL the service checked, with its Accept, and exits 0 when all answer 410 (403 unsigned noted)', async () => {
    status['/secure/x/64.webp'] = 403;
    const r = await cli();
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/from outside: 3\/4 public URLs answer 410, 1 refused unsigned \(not proven gone\)$/m);
    expect(seenAccept['/demo/x']).toBe('image/webp,image/*,*/*');
    expect(Object.keys(seenAccept).sort()).toEqual(PROBES.map((p) => p.path).sort());
  });

  it('exits 1 and names the URL when one is still served from outside, though the service said ok', async () => {
    status['/demo/x/64.webp'] = 200;
    const r = await cli();
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/takedown demo\/x: done/);
    expect(r.out).toMatch(/1 STILL SERVED or unreachable\n {4}200 \/demo\/x\/64\.webp/);
    const json = await cli('--json');
    expect(JSON.parse(json.out).publicCheck).toMatchObject({ checked: 4, gone: 2, refused: 1, failures: [{ url: '/demo/x/64.webp', status: 200 }] });
    expect((await cli('--no-public-check')).code).toBe(0);
  });
});
