import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bodilessRequest, headersFromRaw } from './bodiless-request.js';
import { BytesResponse, installBytesResponse, toHeaderRecord } from './bytes-response.js';
import { errorResponse, HttpError, isHttpError } from '../../core/errors.js';
import { assertSafeRequestTarget } from '../../core/request/raw-target.js';

/** `conn` carries the peer's address (access logs with ACCESS_LOG_CLIENT_IP=socket). */
export type FetchHandler = (request: Request, conn?: { remoteAddress?: string }) => Promise<Response>;

/** A backstop above every route's own limit (uploads: limits.maxSourceBytes; admin: 1 MB). */
const MAX_BODY = 64 * 1024 * 1024;

const bodyTooLarge = () => new HttpError(413, 'BODY_TOO_LARGE', `the body must be at most ${MAX_BODY} bytes`);

/**
 * The body as a stream, not a buffer: a route reads what it accepts and refuses the rest
 * (an upload's Content-Length is checked before a byte is read). Past MAX_BODY the stream
 * errors with a 413, which surfaces from whatever read it. `discard()` (called once the
 * response is sent) drains what nobody read, so the client can finish sending and read the
 * answer on a connection that stays usable.
 */
function bodyStream(req: IncomingMessage): { body: ReadableStream<Uint8Array>; discard(): void } {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY) throw bodyTooLarge();
  let size = 0;
  let discarding = false;
  req.pause();
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        req.on('data', (chunk: Buffer) => {
          if (discarding) return;
          size += chunk.byteLength;
          if (size > MAX_BODY) {
            discarding = true;
            return controller.error(bodyTooLarge());
          }
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 0) <= 0) req.pause();
        });
        req.on('end', () => !discarding && controller.close());
        req.on('error', (err) => !discarding && controller.error(err));
      },
      pull: () => void req.resume(),
      cancel: () => {
        discarding = true;
        req.resume();
      },
    },
    { highWaterMark: 4 },
  );
  return {
    body,
    discard() {
      discarding = true;
      if (!req.readableEnded) req.resume();
    },
  };
}

function toRequest(req: IncomingMessage, origin: string): { request: Request; discard?(): void } {
  // Only origin-form targets ("/path?query"); absolute-form would smuggle another host in.
  if (!req.url?.startsWith('/')) throw Object.assign(new Error('bad request target'), { status: 400 });
  // Before the URL parser resolves '..', '%2e%2e' and '\\' away: traversal attempts get a 400, not another path.
  assertSafeRequestTarget(req.url);
  // GET and HEAD (every image request): no body, and no undici Request unless someone asks for one.
  if (req.method === 'GET' || req.method === 'HEAD') return { request: bodilessRequest(req.method, origin + req.url, req.rawHeaders) };
  const headers = headersFromRaw(req.rawHeaders);
  const { body, discard } = bodyStream(req);
  // `duplex: 'half'` is how undici takes a streamed request body.
  const request = new Request(origin + req.url, { method: req.method, headers, body, duplex: 'half' } as RequestInit);
  return { request, discard };
}

async function send(res: ServerResponse, response: Response): Promise<void> {
  // Responses made from bytes (image bodies, cache hits above all) go to the socket as they
  // are: no Web stream, no copy, and their headers as the plain object they were made from
  // when nobody touched them (bytes-response.ts, installed as the global Response).
  if (response instanceof BytesResponse && response.raw) {
    res.writeHead(response.status, response.headerRecord());
    return void res.end(response.raw);
  }
  res.writeHead(response.status, toHeaderRecord(response.headers));
  if (!response.body) return void res.end();
  res.end(Buffer.from(await response.arrayBuffer()));
}

/** A server of a Web `fetch` handler on host:port (port 0 picks a free one). */
export type ServeFetch = (handler: FetchHandler, opts: { host: string; port: number }) => Promise<{ server: Server; url: string; close(): Promise<void> }>;

/**
 * Serves a Web `fetch` handler with node:http. Installs BytesResponse as the global Response
 * first, so image bodies reach the socket as the bytes they are (bytes-response.ts).
 */
export const serve: ServeFetch = async (handler, opts) => {
  installBytesResponse();
  const server = createServer(async (req, res) => {
    try {
      // A fixed origin: the Host header is a request value and never becomes part of a URL we act on.
      const origin = 'http://localhost';
      const { request, discard } = toRequest(req, origin);
      if (discard) res.once('finish', discard);
      await send(res, await handler(request, { remoteAddress: req.socket.remoteAddress }));
    } catch (err) {
      if (isHttpError(err) && !res.headersSent) return void (await send(res, errorResponse(err)));
      const status = (err as { status?: number }).status === 413 ? 413 : 400;
      if (!res.headersSent) {
        res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify({ code: status === 413 ? 'BODY_TOO_LARGE' : 'BAD_REQUEST', message: 'the request could not be read' }));
      } else res.destroy();
    }
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${opts.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
