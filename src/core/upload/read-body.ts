import { HttpError } from '../errors.js';

/**
 * Reads a request body of at most `maxBytes`. A Content-Length above the limit is refused
 * before a single byte is read; a body without one (chunked) is counted as it streams and
 * refused the moment it passes the limit, so nothing larger is ever held in memory. `tooLarge`:
 * the error for either (an upload's UPLOAD_TOO_LARGE unless given).
 */
export async function readLimitedBody(
  request: Request,
  maxBytes: number,
  tooLarge = () => new HttpError(413, 'UPLOAD_TOO_LARGE', `the upload must be at most ${maxBytes} bytes`),
): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > maxBytes) {
    await request.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (!request.body) return new Uint8Array(0);

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof HttpError) throw err;
    // The client went away or the host refused the body mid-way: nothing to store.
    throw new HttpError(400, 'BODY_READ_FAILED', 'the request body could not be read to the end');
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
