import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenPurge {
  path: string;
  method: string;
  fastlyKey: string | undefined;
  soft: boolean;
  keys: string[];
  at: number;
}

/**
 * A loopback stand-in for api.fastly.com's batch purge: records each call and answers with
 * what `script` says (default: 200 with a purge id per key).
 */
export async function startFakeFastlyApi(script: (call: SeenPurge, n: number) => { status: number; headers?: Record<string, string>; body?: string } | null = () => null) {
  const calls: SeenPurge[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const call: SeenPurge = {
      path: req.url ?? '',
      method: req.method ?? '',
      fastlyKey: req.headers['fastly-key'] as string | undefined,
      soft: req.headers['fastly-soft-purge'] === '1',
      keys: String(req.headers['surrogate-key'] ?? '')
        .split(' ')
        .filter(Boolean),
      at: Date.now(),
    };
    calls.push(call);
    req.resume();
    const scripted = script(call, calls.length);
    if (scripted) {
      res.writeHead(scripted.status, { 'content-type': 'application/json', ...scripted.headers });
      return void res.end(scripted.body ?? JSON.stringify({ msg: `status ${scripted.status}` }));
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(Object.fromEntries(call.keys.map((k, i) => [k, `${calls.length}-${i}-purge`]))));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
