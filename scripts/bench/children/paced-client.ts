/**
 * The fixed-rate load generator (lib/paced-load.ts) in a fresh process, so that no garbage of
 * the bench's own process is collected while it measures: `paced-client.ts <PacedOptions JSON>`;
 * prints the PacedResult as one JSON line (latencies as an array).
 */
import { type PacedOptions, pacedLoadHere } from '../lib/paced-load.js';

const r = await pacedLoadHere(JSON.parse(process.argv[2]!) as PacedOptions);
process.stdout.write(JSON.stringify({ ...r, latencies: Array.from(r.latencies) }) + '\n');
