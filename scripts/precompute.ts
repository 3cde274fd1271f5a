/**
 * Backfills a tenant's standard variants into the variant store. `npm run precompute -- --help`;
 * docs/storage.md.
 */
import { processIo } from './lib/cli-io.js';
import { runPrecomputeCli } from './precompute/cli.js';

process.exitCode = await runPrecomputeCli(process.argv.slice(2), processIo());
