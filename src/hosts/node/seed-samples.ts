import { readdir, readFile } from 'node:fs/promises';
import { extname, join, basename } from 'node:path';
import type { ObjectStore } from '../../core/ports.js';
import { isValidId } from '../../core/request/parse-path.js';
import { originalKey } from '../../core/storage-keys.js';

const TYPES: Record<string, string> = { '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.webp': 'image/webp' };

/**
 * Copies `samplesDir/{tenant}/{id}.{ext}` into the store as originals, once: an original
 * already present (uploaded, or taken down and re-uploaded) is never overwritten.
 */
export async function seedSamples(store: ObjectStore, samplesDir: string, tenants: Iterable<string>): Promise<string[]> {
  const seeded: string[] = [];
  for (const tenant of tenants) {
    let files: string[];
    try {
      files = await readdir(join(samplesDir, tenant));
    } catch {
      continue;
    }
    for (const file of files.sort()) {
      const ext = extname(file).toLowerCase();
      const id = basename(file, extname(file));
      if (!TYPES[ext] || !isValidId(id)) continue;
      const key = originalKey(tenant, id);
      if (await store.head(key)) continue;
      await store.put(key, await readFile(join(samplesDir, tenant, file)), { contentType: TYPES[ext], metadata: { version: '1' } });
      seeded.push(`${tenant}/${id}`);
    }
  }
  return seeded;
}
