import { describe, expect, it } from 'vitest';
import { BytesResponse, installBytesResponse } from '../../../src/hosts/node/bytes-response.js';

const bytes = () => new TextEncoder().encode('{"a":1}') as Uint8Array<ArrayBuffer>;

describe("BytesResponse (the Node host's image responses)", () => {
  it('keeps the bytes for the adapter and still reads like any Response in process', async () => {
    const r = new BytesResponse(bytes(), { status: 200, headers: { 'content-type': 'application/json' } });
    expect(r.raw).toEqual(bytes());
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(r.bodyUsed).toBe(false);
    expect(await r.clone().json()).toEqual({ a: 1 });
    expect(await r.clone().text()).toBe('{"a":1}');
    expect(new Uint8Array(await r.clone().arrayBuffer())).toEqual(bytes());
    expect((await r.clone().blob()).type).toBe('application/json');
    expect(await new Response(r.clone().body).text()).toBe('{"a":1}');
    await r.arrayBuffer();
    expect(r.bodyUsed).toBe(true);
    await expect(r.text()).rejects.toThrow(TypeError);
  });

  it('gives copies: a reader cannot change the cached bytes', async () => {
    const src = bytes();
    const r = new BytesResponse(src, { status: 200 });
    const got = new Uint8Array(await r.arrayBuffer());
    got[0] = 0;
    expect(src[0]).toBe('{'.charCodeAt(0));
  });

  it('leaves any other body, and a status without one, to undici', async () => {
    const empty = new BytesResponse(null, { status: 200, headers: { etag: '"x"' } });
    expect([empty.raw, empty.body, empty.headers.get('etag'), empty.headerRecord()]).toEqual([undefined, null, '"x"', undefined]);
    const text = new BytesResponse('{"a":1}', { status: 201, headers: { 'x-a': '1' } });
    expect([text.raw, text.status, text.headers.get('x-a'), text.bodyUsed]).toEqual([undefined, 201, '1', false]);
    expect(await text.clone().json()).toEqual({ a: 1 });
    expect(await text.text()).toBe('{"a":1}');
    expect(text.bodyUsed).toBe(true);
    expect(() => new BytesResponse(bytes(), { status: 304 })).toThrow(TypeError);
  });

  it('is what `new Response` makes once installed, and still an instanceof Response', async () => {
    const before = globalThis.Response;
    try {
      installBytesResponse();
      const r = new Response(bytes(), { status: 200, headers: { 'content-type': 'application/json' } });
      expect(r).toBeInstanceOf(BytesResponse);
      expect(r).toBeInstanceOf(before);
      expect((r as BytesResponse).raw).toEqual(bytes());
      expect(await Response.json({ a: 1 }).json()).toEqual({ a: 1 });
    } finally {
      globalThis.Response = before;
    }
  });
});

describe('BytesResponse headers', () => {
  it('keeps the Headers it was given (no copy) and accepts plain objects', () => {
    const h = new Headers({ etag: '"a"' });
    const r = new BytesResponse(bytes(), { status: 201, headers: h });
    expect(r.headers).toBe(h);
    expect(r.status).toBe(201);
    expect(new BytesResponse(bytes(), { headers: { 'x-a': '1' } }).headers.get('x-a')).toBe('1');
    expect(new BytesResponse(bytes(), {}).headers.get('x-a')).toBeNull();
  });
});

describe('BytesResponse headerRecord (what the Node adapter writes)', () => {
  it('is the plain object it was given while nobody read headers, else a copy of headers', () => {
    const record = { 'content-type': 'image/webp', etag: '"a"' };
    const r = new BytesResponse(bytes(), { status: 200, headers: record });
    expect(r.headerRecord()).toBe(record);
    r.headers.set('x-late', '1');
    expect(r.headerRecord()).toEqual({ 'content-type': 'image/webp', etag: '"a"', 'x-late': '1' });
    expect(record).toEqual({ 'content-type': 'image/webp', etag: '"a"' });
    const h = new Headers({ 'X-A': '1' });
    expect(new BytesResponse(bytes(), { headers: h }).headerRecord()).toEqual({ 'x-a': '1' });
    expect(new BytesResponse(bytes(), { headers: [['X-B', '2']] }).headerRecord()).toEqual({ 'x-b': '2' });
    expect(new BytesResponse(bytes(), {}).headerRecord()).toEqual({});
  });
});
