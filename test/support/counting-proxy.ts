import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request that went through a counting proxy. */
export interface ProxiedRequest {
  backend: string;
  method: string;
  path: string;
  /** The execution id header's value, or null when the request carried none. */
  execution: string | null;
}

/**
 * Loopback HTTP proxies put in front of a service's backends, recording every request with
 * the header that names the execution that sent it. The requests pass through unchanged
 * (Host included, so SigV4 signatures still match at the real server).
 */
export function createRequestLog(executionHeader: string) {
  const seen: ProxiedRequest[] = [];
  const servers: Server[] = [];

  return {
    seen,
    /** Starts a proxy named `backend` that forwards to `target` (http://127.0.0.1:port); resolves with its URL. */
    async proxy(backend: string, target: string): Promise<string> {
      const to = new URL(target);
      const server = createServer((req: IncomingMessage, res) => {
        const execution = req.headers[executionHeader];
        seen.push({ backend, method: req.method ?? '', path: req.url ?? '', execution: typeof execution === 'string' ? execution : null });
        // Host is the target's: S3 signatures cover it, and they were made for the real server.
        const out = httpRequest({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: { ...req.headers, host: to.host } }, (upstream) => {
          res.writeHead(upstream.statusCode ?? 502, upstream.headers);
          upstream.pipe(res);
        });
        out.on('error', (err) => {
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`counting proxy: ${err.message}`);
        });
        req.pipe(out);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.push(server);
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    /** Requests per execution id (requests without one are counted under ''). */
    perExecution(from = 0): Map<string, ProxiedRequest[]> {
      const by = new Map<string, ProxiedRequest[]>();
      for (const r of seen.slice(from)) {
        const k = r.execution ?? '';
        by.set(k, [...(by.get(k) ?? []), r]);
      }
      return by;
    },
    async close(): Promise<void> {
      await Promise.all(
        servers.map((s) => {
          const closed = new Promise<void>((resolve) => s.close(() => resolve()));
          s.closeAllConnections();
          return closed;
        }),
      );
    },
  };
}
