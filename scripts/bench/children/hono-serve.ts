/**
 * The same fetch handler served through @hono/node-server (a devDependency, for the hits bench
 * only) instead of the Node host's own adapter (src/hosts/node/http-adapter.ts): its
 * getRequestListener on node:http, with its own lightweight Request and Response installed as
 * the globals (its default), the same fixed origin, keep-alive timeout and request-target check
 * as ours, and an HttpError thrown by the handler answered as ours answers it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener, type HttpBindings } from '@hono/node-server';
import { errorResponse, isHttpError } from '../../../src/core/errors.js';
import { assertSafeRequestTarget } from '../../../src/core/request/raw-target.js';
import type { ServeFetch } from '../../../src/hosts/node/http-adapter.js';

export const serveWithHono: ServeFetch = async (handler, opts) => {
  const listener = getRequestListener(
    (request, env) => {
      const { incoming } = env as HttpBindings;
      assertSafeRequestTarget(incoming.url ?? '/');
      return handler(request, { remoteAddress: incoming.socket.remoteAddress });
    },
    { hostname: 'localhost', errorHandler: (err) => (isHttpError(err) ? errorResponse(err) : new Response(null, { status: 400 })) },
  );
  const server = createServer(listener);
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
