import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { bodilessRequest } from '../../../src/hosts/node/bodiless-request.js';

const raw = ['Host', 'example.com', 'Accept', 'image/webp,*/*', 'Referer', 'https://a.example/', 'referer', 'https://b.example/'];

describe("bodilessRequest (the Node adapter's GET and HEAD requests)", () => {
  it('reads like the undici Request it stands for', async () => {
    const url = 'http://localhost/demo/a b/%2F?w=1&x=é#frag';
    const ours = bodilessRequest('GET', url, raw);
    const theirs = new Request(url, {
      headers: [
        ['Host', 'example.com'],
        ['Accept', 'image/webp,*/*'],
        ['Referer', 'https://a.example/'],
        ['referer', 'https://b.example/'],
      ],
    });
    expect(ours).toBeInstanceOf(Request);
    expect(ours.url).toBe(theirs.url);
    expect(ours.method).toBe('GET');
    // Repeated headers combine as Headers combines them (a second Referer must not vanish).
    expect([...ours.headers]).toEqual([...theirs.headers]);
    expect(ours.headers.get('referer')).toBe('https://a.example/, https://b.example/');
    for (const k of ['cache', 'credentials', 'destination', 'integrity', 'keepalive', 'mode', 'redirect', 'referrer', 'referrerPolicy', 'bodyUsed'] as const) {
      expect(ours[k], k).toEqual(theirs[k]);
    }
    expect(ours.body).toBeNull();
    expect(ours.signal.aborted).toBe(false);
    expect(await ours.text()).toBe('');
    expect(ours.clone().url).toBe(theirs.url);
    expect(inspect(ours)).toContain(theirs.url);
  });

  it('HEAD, and headers built once', () => {
    const r = bodilessRequest('HEAD', 'http://localhost/x', raw);
    expect(r.method).toBe('HEAD');
    expect(r.headers).toBe(r.headers);
    r.headers.set('x-added', '1');
    expect(r.clone().headers.get('x-added')).toBe('1');
  });
});
