/**
 * node:http answering every request with the same bytes and headers, no pipeline: the ceiling
 * of any Node host on this machine. `bare-node.ts <file>`; prints {"url": …}.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const body = readFileSync(process.argv[2]!);
const headers = { 'content-type': 'image/webp', 'cache-control': 'public, max-age=86400', etag: '"bench"', 'content-length': String(body.byteLength) };
const server = createServer((_req, res) => {
  res.writeHead(200, headers);
  res.end(body);
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${port}` }) + '\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
