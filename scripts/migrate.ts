/**
 * Copies originals (and tombstones) from one bucket to another, verified by SHA-256, resumable.
 * `npm run migrate -- --help`; docs/storage.md.
 */
import { processIo } from './lib/cli-io.js';
import { runMigrateCli } from './migrate/cli.js';

process.exitCode = await runMigrateCli(process.argv.slice(2), processIo());
