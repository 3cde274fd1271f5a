import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ConfigError } from '../../src/core/config/service-config.js';

/**
 * The resume file of `npm run migrate`: a header naming the source and destination, then one
 * key per line, appended the moment its copy is verified. Appending a line is all a crash
 * can interrupt, so at worst the last key is copied (and verified) again; keys never contain
 * newlines (the stores refuse control characters).
 */
const HEADER = '# avatar-edge migrate checkpoint v1';

export interface Checkpoint {
  done: ReadonlySet<string>;
  record(key: string): void;
}

/** `readOnly` (dry runs): an existing file is read, a missing one is not created, nothing is recorded. */
export function openCheckpoint(path: string, from: string, to: string, opts: { readOnly?: boolean } = {}): Checkpoint {
  const route = `# from ${from} to ${to}`;
  const done = new Set<string>();
  if (existsSync(path)) {
    const lines = readFileSync(path, 'utf8').split('\n');
    if (lines[0] !== HEADER) throw new ConfigError([`${path} is not a migrate checkpoint (first line should be '${HEADER}')`]);
    if (lines[1] !== route) {
      throw new ConfigError([`${path} is the checkpoint of another migration (${(lines[1] ?? '').slice(2)}); use another --resume-file`]);
    }
    for (const line of lines.slice(2)) if (line && !line.startsWith('#')) done.add(line);
  } else if (!opts.readOnly) {
    writeFileSync(path, `${HEADER}\n${route}\n`);
  }
  return {
    done,
    record(key) {
      if (!opts.readOnly) appendFileSync(path, `${key}\n`);
    },
  };
}
