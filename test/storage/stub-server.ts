import { type IncomingMessage, type Server, type ServerResponse, createServer, request } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { FetchFn } from '../../src/storage/s3-store.js';

/** A tiny real HTTP server on 127.0.0.1, port 0, for failure modes s3rver cannot produce. */
export interface StubServer {
  endpoint: string;
  port: number;
  /** Requests seen, as "METHOD /path?query". */
  seen: string[];
  stop(): Promise<void>;
}

export async function startStubServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<StubServer> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    seen,
    stop: () =>
      new Promise<void>((resolve) => {
        // A server that never answers keeps its sockets: cut them so close() can finish.
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** An S3 error document, as S3 and R2 send it. */
export function s3ErrorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>req-1</RequestId></Error>`;
}

/**
 * A fetch that sends every request to 127.0.0.1:port whatever its URL says, keeping the URL's
 * Host header: lets a virtual-hosted URL (`bucket.s3.amazonaws.com`) reach a loopback server,
 * which is what DNS would do in production.
 */
export function loopbackFetch(port: number): FetchFn {
  return async (req: Request) => {
    const url = new URL(req.url);
    const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : new Uint8Array(await req.arrayBuffer());
    const headers: Record<string, string> = { host: url.host };
    req.headers.forEach((v, k) => (headers[k] = v));
    if (body) headers['content-length'] = String(body.byteLength);
    return new Promise<Response>((resolve, reject) => {
      const r = request({ host: '127.0.0.1', port, method: req.method, path: url.pathname + url.search, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
          const status = res.statusCode ?? 500;
          const nullBody = req.method === 'HEAD' || status === 204 || status === 304;
          resolve(new Response(nullBody ? null : Buffer.concat(chunks), { status, headers: h }));
        });
        res.on('error', reject);
      });
      r.on('error', reject);
      r.end(body);
    });
  };
}
