/**
 * Hit ratio, hit-ratio ceiling, dropped parameters, renders and a monthly cost estimate from an
 * access log. `npm run report -- --help`; docs/operations.md.
 */
import { runReportCli } from './report/cli.js';

process.exitCode = await runReportCli(process.argv.slice(2), {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  progress: { write: (t) => process.stderr.write(t), isTTY: process.stderr.isTTY === true, columns: process.stderr.columns },
});
