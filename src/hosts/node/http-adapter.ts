import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorResponse, isHttpError } from '../../core/errors.js';
import { assertSafeRequestTarget } from '../../core/request/raw-target.js';

export type FetchHandler = (request: Request) => Promise<Response>;

/** Bodies above this are refused before buffering (uploads have their own, lower limit). */
const MAX_BODY = 64 * 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<Uint8Array | undefined> {
  if (req.method === 'GET' || req.method === 'HEAD') return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw Object.assign(new Error('body too large'), { status: 413 });
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

function toRequest(req: IncomingMessage, body: Uint8Array | undefined, origin: string): Request {
  // Only origin-form targets ("/path?query"); absolute-form would smuggle another host in.
  if (!req.url?.startsWith('/')) throw Object.assign(new Error('bad request target'), { status: 400 });
  // Before `new Request` resolves '..', '%2e%2e' and '\\' away: traversal attempts get a 400, not another path.
  assertSafeRequestTarget(req.url);
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  return new Request(origin + (req.url ?? '/'), { method: req.method, headers, body: body as BodyInit | undefined });
}

async function send(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((v, k) => (headers[k] = v));
  res.writeHead(response.status, headers);
  if (!response.body) return void res.end();
  res.end(Buffer.from(await response.arrayBuffer()));
}

/** Serves a Web `fetch` handler with node:http on host:port (port 0 picks a free one). */
export async function serve(handler: FetchHandler, opts: { host: string; port: number }): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      // A fixed origin: the Host header is a request value and never becomes part of a URL we act on.
      const origin = 'http://localhost';
      await send(res, await handler(toRequest(req, body, origin)));
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
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
