/** The benchmark corpus: the sample originals the local host serves as tenant `demo`. */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const SAMPLES_DIR = join(REPO, 'samples');
export const CORPUS_DIR = join(SAMPLES_DIR, 'demo');

export interface CorpusImage {
  id: string;
  file: string;
  bytes: Uint8Array;
}

export function loadCorpus(): CorpusImage[] {
  return readdirSync(CORPUS_DIR)
    .filter((f) => /\.(jpe?g|png|webp)$/i.test(f))
    .sort()
    .map((file) => ({ id: basename(file, extname(file)), file, bytes: new Uint8Array(readFileSync(join(CORPUS_DIR, file))) }));
}
