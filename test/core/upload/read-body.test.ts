import { describe, expect, it } from 'vitest';
import { HttpError } from '../../../src/core/errors.js';
import { readLimitedBody } from '../../../src/core/upload/read-body.js';

/** A streamed body of `chunks` × 1000 bytes that counts how many chunks were pulled. */
function streamed(chunks: number, headers: Record<string, string> = {}) {
  const seen = { pulled: 0 };
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (seen.pulled === chunks) return c.close();
      seen.pulled++;
      c.enqueue(new Uint8Array(1000).fill(seen.pulled));
    },
  });
  const request = new Request('http://localhost/_upload/demo/a', { method: 'PUT', body, headers, duplex: 'half' } as RequestInit);
  return { request, seen };
}

describe('readLimitedBody', () => {
  it('reads a body within the limit', async () => {
    const { request } = streamed(3);
    const body = await readLimitedBody(request, 3000);
    expect(body.byteLength).toBe(3000);
    expect([body[0], body[1000], body[2999]]).toEqual([1, 2, 3]);
  });

  it('refuses a declared Content-Length above the limit before reading the body', async () => {
    const { request, seen } = streamed(50, { 'content-length': '50000' });
    const err = await readLimitedBody(request, 10_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect(err).toMatchObject({ status: 413, code: 'UPLOAD_TOO_LARGE' });
    expect(seen.pulled).toBeLessThanOrEqual(1); // a stream may pre-pull one chunk when built; never the body
  });

  it('stops a body without Content-Length as soon as it passes the limit', async () => {
    const { request, seen } = streamed(50);
    await expect(readLimitedBody(request, 10_000)).rejects.toMatchObject({ status: 413, code: 'UPLOAD_TOO_LARGE' });
    expect(seen.pulled).toBeLessThanOrEqual(12);
  });

  it('turns a broken body stream into a 400', async () => {
    const body = new ReadableStream<Uint8Array>({ pull: (c) => c.error(new Error('socket hang up')) });
    const request = new Request('http://localhost/x', { method: 'PUT', body, duplex: 'half' } as RequestInit);
    await expect(readLimitedBody(request, 10)).rejects.toMatchObject({ status: 400, code: 'BODY_READ_FAILED' });
  });
});
