import { availableParallelism } from 'node:os';
import { withAdminTokenFromEnv } from '../../core/config/admin-env.js';
import { ConfigError, loadServiceConfig } from '../../core/config/service-config.js';
import { parseRenderSecrets } from '../../core/config/render-secrets.js';
import { describeRateLimits, parseRateLimits } from '../../core/limits/rate-limits.js';
import { createImageLimits } from '../../http/limited-image-route.js';
import { readSchedulerSettings, stallWarning } from '../../render/scheduler/settings.js';
import { describeStorage } from '../../storage/config.js';
import { describeOps } from '../../observability/ops-settings.js';
import { startNodeApp } from './create-node-app.js';
import { installGracefulShutdown } from './graceful-shutdown.js';
import { createNodeOps } from './node-ops.js';
import { createNodeStore } from './node-store.js';
import { readServiceInput } from './read-config.js';
import { hostLog } from '../../observability/host-log.js';

// `npm start`: config/local.json (tenants demo and secure) unless AVATAR_CONFIG says otherwise.
/** RENDER_THREADS (default: one per core), RENDER_MEMORY_MB (default: limits.renderMemoryBytes), RENDER_MASTERS_MB, RENDER_TIMEOUT_MS, RENDER_QUEUE. */
function renderSettings(renderMemoryBytes: number) {
  const problems: string[] = [];
  const settings = readSchedulerSettings(process.env, availableParallelism(), problems, renderMemoryBytes);
  if (problems.length) throw new ConfigError(problems);
  return settings;
}

/** RATE_LIMITS_JSON (absent: the defaults of core/limits/rate-limits.ts), per process. */
function rateLimits() {
  const problems: string[] = [];
  const limits = parseRateLimits(process.env.RATE_LIMITS_JSON, problems);
  if (problems.length) throw new ConfigError(problems);
  return limits;
}

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError([`PORT must be 0..65535, got '${process.env.PORT}'`]);
  const { input, source } = readServiceInput();
  const config = loadServiceConfig(withAdminTokenFromEnv(input, process.env));
  const renderSecrets = parseRenderSecrets(process.env.RENDER_SECRET);
  const limits = rateLimits();
  const render = renderSettings(config.limits.renderMemoryBytes);
  const stall = stallWarning(render);
  if (stall) hostLog(stall);
  const log = hostLog;
  // Metrics, access log, /readyz and shutdown: docs/operations.md.
  const ops = createNodeOps({ env: process.env, config, store: () => storage.store, log });
  // STORAGE=fs (default: DATA_DIR or .data) or STORAGE=s3 (S3_*): docs/storage.md.
  const storage = createNodeStore(process.env, log, ops.wrapStore);
  const app = await startNodeApp({
    config,
    store: storage.store,
    // Sample originals go into the local directory only: never into somebody's bucket.
    samplesDir: storage.config.kind === 'fs' ? undefined : null,
    cacheMaxBytes: process.env.CACHE_MAX_BYTES ? Number(process.env.CACHE_MAX_BYTES) : undefined,
    host: process.env.HOST ?? '127.0.0.1',
    port,
    renderSecrets,
    log,
    // Renders on worker threads, one per core, so both cores render and hits never wait behind a render.
    renderThreads: render.threads,
    render: {
      memoryBytes: render.memoryBytes,
      ...(render.masterBytes === undefined ? {} : { masterBytes: render.masterBytes }),
      timeoutMs: render.timeoutMs,
      maxQueue: render.maxQueue,
      stallForTests: render.stallForTests,
      metrics: ops.metrics.renderScheduler,
    },
    wrapRenderer: ops.wrapRenderer,
    wrapFetch: ops.wrapFetch,
    limits: createImageLimits({ limits, clientIp: ops.settings.clientIp, onRefused: ops.metrics.rateLimited }),
  });
  const metricsListener = await ops.startMetricsListener();
  if (app.seeded.length) console.log(`seeded ${app.seeded.length} sample originals: ${app.seeded.join(', ')}`);
  // Facts first, the "listening" line last: whoever waits for it (tests, scripts) then has them all.
  console.log(`storage: ${describeStorage(storage.config)}`);
  const threads = render.threads ? `${render.threads} worker thread${render.threads === 1 ? '' : 's'}` : 'the main thread';
  console.log(`render: ${threads}, memory ${render.memoryBytes / 1048576} MiB, timeout ${render.timeoutMs} ms, queue ${render.maxQueue}`);
  console.log(`operations: ${describeOps(ops.settings)}${metricsListener ? ` at ${metricsListener.url}/metrics` : ''}`);
  console.log(`rate limits: ${describeRateLimits(limits)}`);
  console.log(`avatar-edge listening on ${app.url}${renderSecrets.length ? ' (render route /_render/* on)' : ''}`);
  console.log('try:');
  for (const path of ['/demo/hopper?w=128', '/demo/astronaut/256.webp', '/demo/mysha?w=96&fmt=png', '/demo/seeding?w=512&h=256&fit=cover']) {
    console.log(`  ${app.url}${path}`);
  }
  const adminIds = Object.keys(config.admin.tokens);
  console.log(`admin API /_admin/*: ${adminIds.length ? `tokens ${adminIds.join(', ')} (docs/admin-api.md)` : 'closed (set ADMIN_TOKEN)'}`);
  console.log(`config: ${source}${config.tenants.has('secure') ? "; signed URLs for tenant 'secure': npm run sign -- secure hopper --w 128 --h 128 --fmt webp" : ''}`);
  installGracefulShutdown({
    server: app.server,
    deadlineMs: ops.settings.shutdownDeadlineMs,
    inFlight: ops.inFlight,
    onDraining: () => ops.readiness.setDraining(),
    log: (msg) => hostLog(msg),
    close: async () => {
      await metricsListener?.close();
      await app.close();
    },
  });
}

main().catch((err) => {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error(err);
  process.exit(1);
});
