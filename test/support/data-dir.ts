import { copyFile, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { originalKey } from '../../src/core/storage-keys.js';

/**
 * A fresh temp directory laid out as the directory store (DATA_DIR) holding these originals,
 * each copied from a file: what a host process started by a test reads its images from.
 */
export async function dataDirWith(name: string, originals: ReadonlyArray<{ tenant: string; id: string; file: string }>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `avatar-edge-${name}-`));
  for (const o of originals) {
    const path = join(dir, originalKey(o.tenant, o.id));
    await mkdir(dirname(path), { recursive: true });
    await copyFile(o.file, path);
  }
  return dir;
}
