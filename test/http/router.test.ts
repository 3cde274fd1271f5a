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
