import { createReadStream } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createProgress, type ProgressSink } from '../lib/progress.js';
import { createAggregator, type ReportData } from './aggregate.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import { DEFAULT_PRICES, parsePrices, PRICE_FLAGS, type Prices } from './prices.js';

export const USAGE = `usage: npm run report -- <access log> [options]

Reads an access log (JSON lines from the Node or Deno host, docs/operations.md) in one streaming
pass and writes report.md, report.html (self-contained, charts as inline SVG) and report.json.

  --out DIR                       where to write (default: report/)
  --prices FILE                   JSON prices: {"currency":"EUR","egressPerGB":0.05,...}
  --price-egress-gb N             per GB sent                  (default ${DEFAULT_PRICES.egressPerGB})
  --price-requests-million N      per million requests         (default ${DEFAULT_PRICES.requestsPerMillion})
  --price-renders-million N       per million renders          (default ${DEFAULT_PRICES.rendersPerMillion})
  --price-store-gets-million N    per million store reads      (default ${DEFAULT_PRICES.storeGetsPerMillion})
  --help                          this text

Lines that are not access log records (start-up messages) are counted and skipped.`;

export interface ReportIo {
  out: (line: string) => void;
  err: (line: string) => void;
  progress: ProgressSink;
}

export async function runReportCli(argv: string[], io: ReportIo): Promise<number> {
  let logPath: string | undefined;
  let outDir = 'report';
  let pricesFile: string | undefined;
  const flags: Partial<Prices> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      io.out(USAGE);
      return 0;
    }
    const [name, inline] = a.startsWith('--') ? (a.includes('=') ? [a.slice(2, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a.slice(2), undefined]) : [undefined, undefined];
    if (name === undefined) {
      if (logPath !== undefined) return usage(io, `one log file only (got '${logPath}' and '${a}')`);
      logPath = a;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) return usage(io, `--${name} needs a value`);
    if (name === 'out') outDir = value;
    else if (name === 'prices') pricesFile = value;
    else if (name in PRICE_FLAGS) {
      const n = Number(value);
      if (!Number.isFinite(n) || n < 0) return usage(io, `--${name} must be a number ≥ 0`);
      flags[PRICE_FLAGS[name]!] = n;
    } else return usage(io, `unknown option --${name}`);
  }
  if (!logPath) return usage(io, 'the access log file is missing');

  let prices: Prices;
  try {
    prices = pricesFile ? parsePrices(JSON.parse(await readFile(pricesFile, 'utf8'))) : { ...DEFAULT_PRICES };
    prices = { ...prices, ...flags };
  } catch (e) {
    return usage(io, `--prices ${pricesFile}: ${(e as Error).message}`);
  }

  let size: number;
  try {
    size = (await stat(logPath)).size;
  } catch (e) {
    io.err(`report: cannot read ${logPath}: ${(e as Error).message}`);
    return 1;
  }
  const data = await aggregateFile(logPath, size, prices, io.progress);
  const dir = resolve(outDir);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'report.md'), renderMarkdown(data, logPath));
  await writeFile(join(dir, 'report.html'), renderHtml(data, logPath));
  await writeFile(join(dir, 'report.json'), `${JSON.stringify(data, null, 2)}\n`);
  io.out(
    `hit ratio ${(data.totals.hitRatio * 100).toFixed(1)} % over ${data.totals.cacheable} image requests; ${data.totals.renders} renders; about ${data.cost.monthlyTotal.toFixed(2)} ${prices.currency} per month`,
  );
  io.out(`wrote ${join(dir, 'report.md')}, report.html and report.json`);
  return 0;
}

function usage(io: ReportIo, problem: string): number {
  io.err(`report: ${problem}\n\n${USAGE}`);
  return 2;
}

/** One pass over the file, line by line: memory stays bounded whatever its size. */
export async function aggregateFile(path: string, size: number, prices: Prices, sink: ProgressSink): Promise<ReportData> {
  const agg = createAggregator();
  const stream = createReadStream(path);
  let done = 0;
  const progress = createProgress(sink, 'report', size);
  stream.on('data', (chunk) => {
    done += chunk.length;
    progress.update(done, 'bytes read');
  });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  for await (const line of lines) if (line) agg.add(line);
  progress.finish(size, 'bytes read');
  return agg.result(prices);
}
