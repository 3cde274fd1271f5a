/** ipx 3 (h3 + sharp) on the same originals: `ipx-host.ts <dir>`; prints {"url": …}. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createIPX, createIPXNodeServer, ipxFSStorage } from 'ipx';

const dir = process.argv[2];
if (!dir) throw new Error('usage: ipx-host.ts <dir>');
// What `ipx serve --dir` wires up (listhen around the same node listener).
const ipx = createIPX({ storage: ipxFSStorage({ dir }) });
const server = createServer(createIPXNodeServer(ipx));
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${port}`, pid: process.pid }) + '\n');
});
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections(); // keep-alive clients would hold close() open
});
