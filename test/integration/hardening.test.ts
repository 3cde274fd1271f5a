import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from '../../src/hosts/node/http-adapter.js';
import { startFakeRendererApp } from '../support/fake-renderer-app.js';

/**
 * Input hardening over real HTTP. Requests go out on a raw socket because fetch() would
 * normalize '..', '%2e%2e' and '\' before sending, hiding exactly what is being tested.
 */
async function raw(url: string, target: string, headers: Record<string, string> = {}): Promise<{ status: number; code?: string }> {
  const { hostname, port } = new URL(url);
  const head = [`GET ${target} HTTP/1.1`, `Host: ${hostname}`, 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => socket.write(head.join('\r\n') + '\r\n\r\n', 'latin1'));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const code = /"code":"([A-Z_]+)"/.exec(text)?.[1];
      resolve({ status, code });
    });
  });
}

describe('input hardening over HTTP', () => {
  let env: Awaited<ReturnType<typeof startFakeRendererApp>>;
  let server: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    env = await startFakeRendererApp({ tenants: { open: {}, demo: {} } }, [['open', 'hopper']]);
    server = await serve(env.app.fetch, { host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await env?.stop();
  });

  it('serves a plain request (the harness works)', async () => {
    expect(await raw(server.url, '/open/hopper?w=64')).toEqual({ status: 200, code: undefined });
  });

  it.each([
    '/open/..',
    '/open/../demo/hopper',
    '/open/hopper/..',
    '/..%2f..%2fetc/passwd',
    '/open/%2e%2e/demo/hopper',
    '/open/%2E%2e',
    '/open/.%2e/x',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/open/./hopper',
    '/open/a%2fb',
    '/open/a%2Fb',
    '/open/hopper%2f..%2f..%2fx',
    '/open/a\\b',
    '/open\\..\\..\\x',
    '/open/a%5cb',
    '/open/a%00b',
    '/open/hopper%00.jpg',
    '/open/%c0%ae%c0%ae/x',
  ])('traversal %j → 400 INVALID_PATH', async (target) => {
    expect(await raw(server.url, target)).toEqual({ status: 400, code: 'INVALID_PATH' });
  });

  it('raw NUL and control characters in the target → 400 (from the HTTP parser itself)', async () => {
    expect((await raw(server.url, '/open/a\0b')).status).toBe(400);
    expect((await raw(server.url, '/open/a\x01b')).status).toBe(400);
  });

  it('absolute-form targets cannot smuggle another host → 400', async () => {
    expect((await raw(server.url, 'http://evil.example/open/hopper')).status).toBe(400);
  });

  it.each([
    ['/OPEN/hopper', 'INVALID_TENANT'],
    ['/-open/hopper', 'INVALID_TENANT'],
    [`/${'a'.repeat(33)}/hopper`, 'INVALID_TENANT'],
    ['/open/.hidden', 'INVALID_ID'],
    ['/open/a..b', 'INVALID_ID'],
    [`/open/${'x'.repeat(129)}`, 'INVALID_ID'],
    ['/open/h%C3%B6pper', 'INVALID_PATH'],
    ['/open/hopper/128.gif', 'INVALID_PATH'],
  ])('charset and length limits: %j → 400 %s', async (target, code) => {
    expect(await raw(server.url, target)).toEqual({ status: 400, code });
  });

  it('the longest valid tenant and id pass validation (404: no such tenant/image)', async () => {
    expect((await raw(server.url, `/${'a'.repeat(32)}/x`)).code).toBe('UNKNOWN_TENANT');
    expect(await raw(server.url, `/open/${'x'.repeat(128)}`)).toEqual({ status: 404, code: 'NOT_FOUND' });
  });

  it('oversized paths and query strings → 414', async () => {
    expect(await raw(server.url, `/open/hopper?w=64&utm=${'x'.repeat(1100)}`)).toEqual({ status: 414, code: 'QUERY_TOO_LONG' });
    expect(await raw(server.url, `/open/${'x'.repeat(400)}`)).toEqual({ status: 414, code: 'PATH_TOO_LONG' });
  });

  it('oversized header values → 431', async () => {
    expect(await raw(server.url, '/open/hopper', { Referer: `https://example.com/${'a'.repeat(5000)}` })).toEqual({ status: 431, code: 'HEADER_TOO_LARGE' });
    expect(await raw(server.url, '/open/hopper', { Accept: `image/webp,${'x'.repeat(5000)}` })).toEqual({ status: 431, code: 'HEADER_TOO_LARGE' });
    // Beyond Node's 16 KiB header block the HTTP parser refuses before the app sees anything.
    expect((await raw(server.url, '/open/hopper', { 'X-Junk': 'x'.repeat(20_000) })).status).toBe(431);
  });
});
