/**
 * V8's full garbage collection as a function, without `node --expose-gc` on every command line
 * (npm start, tests, the bench). The renderer calls it after a large decode (render/codecs.ts)
 * so a replaced decoder's WebAssembly memory is returned at once.
 *
 * A render thread has `gc` on its own global: the flag is set before its context is made
 * (node-thread.ts `v8FlagsForThreads`). Elsewhere (the inline thread, tests) the flag set now
 * applies only to contexts made after it, and a fresh vm context hands over its `gc`; that
 * second context is ~0.8 MB more heap for every full collection to mark (a bare worker's
 * collection 2.9 → 3.9 ms), which render threads no longer carry.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

export function exposeGc(): () => void {
  if (!gc) {
    const own = (globalThis as { gc?: () => void }).gc;
    if (typeof own === 'function') gc = own;
    else {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    }
  }
  return gc;
}
