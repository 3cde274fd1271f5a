/**
 * The local Node host for the HTTP suites, wired as `npm start` wires it (render threads, one
 * per core): `our-host.ts <dataDir> [renderThreads]`; prints {"url": …}.
 */
import { availableParallelism } from 'node:os';
import { loadServiceConfig } from '../../../src/core/config/service-config.js';
import { startNodeApp } from '../../../src/hosts/node/create-node-app.js';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: our-host.ts <dataDir> [renderThreads]');
const renderThreads = process.argv[3] !== undefined ? Number(process.argv[3]) : availableParallelism();
// BENCH_SIGNING_KEY: the demo tenant requires signed URLs (key id "bench").
const key = process.env.BENCH_SIGNING_KEY;
const demo = key ? { requireSignature: true, keys: { bench: key } } : {};
const app = await startNodeApp({ config: loadServiceConfig({ tenants: { demo } }), dataDir, log: () => {}, renderThreads });
process.stdout.write(JSON.stringify({ url: app.url, pid: process.pid, renderThreads }) + '\n');
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
