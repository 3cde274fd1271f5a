import { describe, expect, it } from 'vitest';
import { HttpError } from '../../src/core/errors.js';
import { createRouter } from '../../src/http/router.js';

const page = () => new Response('<h1>hi</h1>', { headers: { 'content-type': 'text/html' } });
const router = createRouter({
  image: (req) => {
    if (new URL(req.url).pathname === '/boom') throw new Error('secret internals');
    if (new URL(req.url).pathname === '/teapot') throw new HttpError(418, 'TEAPOT', 'short and stout');
    return new Response('img');
  },
  page,
  onError: () => {},
});
const call = (path: string, method = 'GET') => router(new Request(`http://x${path}`, { method }));

describe('router', () => {
  it('answers HEAD on GET-only routes with headers and no body', async () => {
    for (const path of ['/', '/healthz']) {
      const r = await call(path, 'HEAD');
      expect(r.status).toBe(200);
      expect(await r.text()).toBe('');
    }
    expect((await call('/', 'HEAD')).headers.get('content-type')).toBe('text/html');
  });

  it('renders HttpErrors as JSON with their code, and hides anything else behind a bare 500', async () => {
    const t = await call('/teapot');
    expect(t.status).toBe(418);
    expect(await t.json()).toEqual({ code: 'TEAPOT', message: 'short and stout' });
    const b = await call('/boom');
    expect(b.status).toBe(500);
    expect(b.headers.get('cache-control')).toBe('no-store');
    const body = await b.text();
    expect(body).not.toContain('secret');
    expect(JSON.parse(body).code).toBe('INTERNAL');
  });

  it('refuses other methods with 405', async () => {
    expect((await call('/demo/x', 'POST')).status).toBe(405);
  });
});

describe('router: which route answers', () => {
  const named = (name: string) => (req: Request) => new Response(`${name} ${req.method}`);
  const all = createRouter({
    image: named('image'),
    page: named('page'),
    admin: named('admin'),
    render: named('render'),
    upload: named('upload'),
    onError: () => {},
  });
  const route = async (path: string, method = 'GET') => {
    const r = await all(new Request(`http://x${path}`, { method }));
    if (r.status !== 200) return `${r.status}`;
    const body = await r.text();
    return body === 'ok\n' ? 'health' : body.split(' ')[0];
  };

  // The paths next to the route table's edges (prefixes, trailing slashes, lookalikes).
  it('sends each path to the same route as the route table', async () => {
    const cases: Array<[string, string]> = [
      ['/demo/hopper?w=128', 'image'],
      ['/demo', 'image'],
      ['/healthzx', 'image'],
      ['/healthz/x', 'image'],
      ['/health', 'image'],
      ['/x_admin/y', 'image'],
      ['//demo/x', 'image'],
      ['/_x/y', 'image'],
      ['/healthz', 'health'],
      ['/healthz/', 'health'],
      ['/healthz//?x=1', 'health'],
      ['/', 'page'],
      ['//', 'page'],
      ['/?w=1', 'page'],
      ['/_admin', 'admin'],
      ['/_admin/audit', 'admin'],
      ['/_render/demo/x/128x128-cover-q75.webp', 'render'],
      ['/_upload/demo/x', 'upload'],
      ['/_adminx', 'image'],
      ['/_admin/', 'admin'],
      ['/_admin//x', 'admin'],
      ['/_render', 'render'],
      ['/_upload', 'upload'],
      ['/_uploadx/y', 'image'],
      ['/%5Fadmin/x', 'image'],
      ['/healthz?x=1#y', 'health'],
      ['/demo/x#frag', 'image'],
    ];
    for (const [path, want] of cases) expect(`${path} → ${await route(path)}`).toBe(`${path} → ${want}`);
    // HEAD: GET-only routes answer without a body, /_render/* is GET only (HEAD falls to the image route).
    const head = createRouter({
      image: named('image'),
      render: () => {
        throw new Error('not for HEAD');
      },
      onError: () => {},
    });
    expect((await head(new Request('http://x/_render/a/b', { method: 'HEAD' }))).status).toBe(200);
    expect((await head(new Request('http://x/demo/a', { method: 'HEAD' }))).status).toBe(200);
    expect(await route('/demo/x', 'DELETE')).toBe('405');
    expect(await route('/_upload/demo/x', 'PUT')).toBe('upload');
    expect(await route('/_admin/takedown', 'POST')).toBe('admin');
    expect(await route('/_render/demo/x/1.webp', 'POST')).toBe('405');
    expect(await route('/healthz', 'POST')).toBe('405');
    // A route the app does not have passes its paths on, as if it were not in the table.
    const bare = createRouter({ image: named('image'), onError: () => {} });
    for (const path of ['/_admin/x', '/_render/a/b', '/_upload/a/b', '/']) expect(await (await bare(new Request(`http://x${path}`))).text()).toBe('image GET');
    expect((await bare(new Request('http://x/_upload/a/b', { method: 'PUT' }))).status).toBe(405);
  });

  it('a public image route that declines (renderer mode) is a 404, asked once', async () => {
    let calls = 0;
    const r = createRouter({ image: () => void calls++, onError: () => {} });
    const res = await r(new Request('http://x/demo/hopper'));
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ code: 'NOT_FOUND', message: 'not found' });
    expect(calls).toBe(1);
  });
});
