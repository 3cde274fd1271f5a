import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServiceConfig, type ServiceInput } from '../../src/core/config/service-config.js';
import type { Renderer } from '../../src/core/ports.js';
import { type NodeAppOptions, startNodeApp } from '../../src/hosts/node/create-node-app.js';

/** Starts the real local host on 127.0.0.1:0 with a fresh data directory seeded from samples/. */
export async function startTestHost(input: ServiceInput = {}, extra: Pick<NodeAppOptions, 'wrapRenderer' | 'cacheMaxBytes' | 'renderThreads' | 'render'> = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), 'avatar-edge-test-'));
  const app = await startNodeApp({ config: loadServiceConfig(input), dataDir, log: () => {}, ...extra });
  return {
    ...app,
    dataDir,
    get: (path: string, headers: Record<string, string> = {}) => fetch(app.url + path, { headers }),
    async stop() {
      await app.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Counts renders going through a renderer. */
export function countingRenderer() {
  const counter = { renders: 0 };
  const wrap = (r: Renderer): Renderer => ({
    render: (src, v) => {
      counter.renders++;
      return r.render(src, v);
    },
  });
  return { counter, wrap };
}
