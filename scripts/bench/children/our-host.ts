/**
 * The local Node host for the HTTP suites, wired as `npm start` wires it (render threads, one
 * per core): `our-host.ts <dataDir> [renderThreads]`; prints {"url": …}.
 */
import { availableParallelism } from 'node:os';
import { loadServiceConfig } from '../../../src/core/config/service-config.js';
import { parseRateLimits } from '../../../src/core/limits/rate-limits.js';
import { startNodeApp } from '../../../src/hosts/node/create-node-app.js';
import { createImageLimits } from '../../../src/http/limited-image-route.js';
import { BENCH_RATE_LIMITS } from '../lib/rate-limits.js';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: our-host.ts <dataDir> [renderThreads]');
const renderThreads = process.argv[3] !== undefined ? Number(process.argv[3]) : availableParallelism();
// BENCH_SIGNING_KEY: the demo tenant requires signed URLs (key id "bench").
const key = process.env.BENCH_SIGNING_KEY;
const demo = key ? { requireSignature: true, keys: { bench: key } } : {};
// Limits on, as npm start has them, but out of reach (lib/rate-limits.ts).
const limits = createImageLimits({ limits: parseRateLimits(BENCH_RATE_LIMITS, []), clientIp: 'socket' });
const app = await startNodeApp({ config: loadServiceConfig({ tenants: { demo } }), dataDir, log: () => {}, renderThreads, limits });
process.stdout.write(JSON.stringify({ url: app.url, pid: process.pid, renderThreads }) + '\n');
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
