/**
 * V8's full garbage collection as a function, without `node --expose-gc` on every command line
 * (npm start, tests, the bench): the flag set at run time applies to contexts created after it,
 * and a fresh vm context hands over its `gc`. The renderer calls it after a large decode
 * (render/codecs.ts) so a replaced decoder's WebAssembly memory is returned at once.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

export function exposeGc(): () => void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  return gc;
}
