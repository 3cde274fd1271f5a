/**
 * Node's HTTP server for the app's Web `fetch` handler: @hono/node-server's request listener on
 * node:http. It installs its own lightweight Request and Response as the globals (undici's cost
 * as much per cached hit as the whole pipeline) and writes a Response made from bytes to the
 * socket as they are, so the app keeps writing the standard `new Response(body, init)`, as on
 * Deno and Fastly. Before it sees a request this file refuses what the host never serves (an
 * absolute-form target, dot segments and their encodings, a body declared past MAX_BODY) and
 * fixes the origin. Chosen over our own Request/Response layer by the hits bench: the same CPU
 * per cached hit within the noise (docs/architecture.md, "Node's Request and Response").
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener, type HttpBindings } from '@hono/node-server';
import { errorResponse, HttpError, isHttpError } from '../../core/errors.js';
import { assertSafeRequestTarget } from '../../core/request/raw-target.js';

/** `conn` carries the peer's address (access logs with ACCESS_LOG_CLIENT_IP=socket). */
export type FetchHandler = (request: Request, conn?: { remoteAddress?: string }) => Promise<Response>;

/** A server of a Web `fetch` handler on host:port (port 0 picks a free one). */
export type ServeFetch = (handler: FetchHandler, opts: { host: string; port: number }) => Promise<{ server: Server; url: string; close(): Promise<void> }>;

/**
 * A backstop above every route's own limit (uploads: limits.maxSourceBytes; admin: 1 MB; both
 * count a chunked body as it streams, core/upload/read-body.ts): a declared Content-Length past
 * it is refused before the app sees the request. A body a route leaves unread is drained by
 * the listener once the response is sent (up to 64 MB, then the connection is closed), so the
 * client can read the answer on a connection that stays usable.
 */
const MAX_BODY = 64 * 1024 * 1024;

const bodyTooLarge = () => new HttpError(413, 'BODY_TOO_LARGE', `the body must be at most ${MAX_BODY} bytes`);
const unreadable = () => new HttpError(400, 'BAD_REQUEST', 'the request could not be read');

async function refuse(res: ServerResponse, err: HttpError): Promise<void> {
  const response = errorResponse(err);
  const headers: Record<string, string> = {};
  response.headers.forEach((v, k) => (headers[k] = v));
  res.writeHead(response.status, headers);
  res.end(await response.text());
}

/** Serves a Web `fetch` handler with node:http through @hono/node-server's listener. */
export const serve: ServeFetch = async (handler, opts) => {
  const listener = getRequestListener(
    (request, env) => {
      const { incoming } = env as HttpBindings;
      return handler(request, { remoteAddress: incoming.socket.remoteAddress });
    },
    { errorHandler: (err) => errorResponse(isHttpError(err) ? err : unreadable()) },
  );
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    try {
      // Only origin-form targets ("/path?query"); absolute-form would smuggle another host in.
      if (!req.url?.startsWith('/')) throw unreadable();
      // Before the URL parser resolves '..', '%2e%2e' and '\\' away: traversal attempts get a 400, not another path.
      assertSafeRequestTarget(req.url);
      if (Number(req.headers['content-length'] ?? 0) > MAX_BODY) throw bodyTooLarge();
    } catch (err) {
      return void refuse(res, isHttpError(err) ? err : unreadable());
    }
    // A fixed origin: the Host header is a request value and never becomes part of a URL we act on.
    req.headers.host = 'localhost';
    void listener(req, res);
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
