'use strict';
// Runs s3rver in its own process for the storage tests (see s3rver.ts for why).
// argv: <directory> <bucket...>; env S3RVER_PORT: the port (default 0: any free one, e.g. a first
// start; a restart passes the port it had). Prints one JSON line {"port":N} once listening; exits
// on SIGTERM or when stdin closes.
const S3rver = require('s3rver');

const [directory, ...buckets] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(process.env.S3RVER_PORT || 0),
  silent: true,
  directory,
  resetOnClose: true,
  configureBuckets: buckets.map((name) => ({ name })),
});

server.run().then(
  ({ port }) => process.stdout.write(`${JSON.stringify({ port })}\n`),
  (err) => {
    process.stderr.write(`s3rver failed to start: ${err && err.stack}\n`);
    process.exit(1);
  },
);

let closing = false;
const stop = () => {
  if (closing) return;
  closing = true;
  server.close().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
// If the test runner dies, stdin closes: do not leave a server behind.
process.stdin.on('end', stop);
process.stdin.resume();
