/**
 * Render threads get V8's `gc` on their own global (node-thread.ts `v8FlagsForThreads`, set
 * before the first thread's isolate): expose-gc.ts then needs no second vm context, which
 * every full collection of the thread would mark too. A fresh process, so the flags start unset;
 * a thread started before them is the control.
 */
import { describe, expect, it } from 'vitest';
import { inFreshNode } from '../../support/fresh-node.js';

const CHILD = `
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { v8FlagsForThreads } from './src/hosts/node/node-thread.js';
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(/\\.cjs$/, '.mjs');
const entry = pathToFileURL('src/hosts/node/expose-gc.ts').href;
const probe = () =>
  new Promise((resolve, reject) => {
    const boot = \`import(\${JSON.stringify(tsx)}).then((m) => { m.register(); return import(\${JSON.stringify(entry)}); }).then(({ exposeGc }) => {
      const gc = exposeGc();
      gc();
      return Promise.all([import('node:worker_threads'), import('node:v8')]).then(([{ parentPort }, v8]) =>
        parentPort.postMessage({ own: gc === globalThis.gc, contexts: v8.getHeapStatistics().number_of_native_contexts }));
    })\`;
    const w = new Worker(boot, { eval: true });
    w.once('message', (m) => { resolve(m); void w.terminate(); });
    w.once('error', reject);
  });
const before = await probe();
v8FlagsForThreads();
const after = await probe();
console.log(JSON.stringify({ before, after }));
`;

describe('render threads: V8 flags set before their isolates', () => {
  it('give each thread its own gc, with no second context to mark', () => {
    const { before, after } = inFreshNode<{ before: unknown; after: unknown }>(CHILD);
    expect(before).toEqual({ own: false, contexts: 2 });
    expect(after).toEqual({ own: true, contexts: 1 });
  });
});
