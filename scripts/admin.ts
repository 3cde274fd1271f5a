/**
 * Admin CLI: purge, takedown, erase, restore and audit against a running service, and
 * fastly-purge straight through Fastly's API. `npm run admin -- --help`; docs/admin-api.md.
 */
import { runAdminCli } from './admin/cli.js';

const code = await runAdminCli(process.argv.slice(2), {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  env: process.env,
});
process.exitCode = code;
