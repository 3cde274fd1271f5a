/**
 * Peer suite: the same request mix over HTTP (autocannon) against our Node host and against
 * ipx (h3 + sharp) started locally on the same originals. Warm sources: every request a variant
 * not seen before (fresh processes, empty variant store) of one of the 7 sample originals, so
 * after each original's first request ours renders from its kept master: a measure of that
 * cache, not of first touch (first-touch.ts is the cold figure). Warm: Zipf popularity over the
 * variants, so most requests repeat an earlier one, as on a real site.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChild } from './lib/child.js';
import { CORPUS_DIR, loadCorpus } from './lib/corpus.js';
import { type LoadResult, load } from './lib/load.js';
import type { SuiteReport, Table } from './lib/report.js';
import { fmt, intFmt, ratio, rng, shuffle, zipf } from './lib/stats.js';

const SIDES = [32, 48, 64, 96, 128, 192, 256];
const FORMATS = ['webp', 'jpeg'] as const;
const CONNECTIONS = 8;

interface Want {
  file: string;
  id: string;
  w: number;
  h: number;
  format: (typeof FORMATS)[number];
}

const oursPath = (v: Want) => `/demo/${v.id}?w=${v.w}&h=${v.h}&fit=cover&fmt=${v.format}&q=75`;
const ipxPath = (v: Want) => `/s_${v.w}x${v.h},fit_cover,f_${v.format},q_75/${v.file}`;

function universe(): Want[] {
  const out: Want[] = [];
  for (const img of loadCorpus()) for (const w of SIDES) for (const h of SIDES) for (const format of FORMATS) out.push({ file: img.file, id: img.id, w, h, format });
  return out;
}

async function withServer<T>(kind: 'ours' | 'ipx', f: (url: string) => Promise<T>): Promise<T> {
  // A fresh process and an empty data directory each time: nothing rendered before survives.
  const dataDir = await mkdtemp(join(tmpdir(), 'avatar-bench-'));
  const child = kind === 'ours' ? await startChild('scripts/bench/children/our-host.ts', [dataDir]) : await startChild('scripts/bench/children/ipx-host.ts', [CORPUS_DIR]);
  try {
    return await f(child.ready.url as string);
  } finally {
    await child.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const row = (name: string, o: LoadResult, r: LoadResult): string[] => [
  name,
  `${fmt(o.rps, 1)} / ${fmt(r.rps, 1)} = ${ratio(o.rps, r.rps)}`,
  `${fmt(o.p50, 0)} / ${fmt(r.p50, 0)} ms`,
  `${fmt(o.p99, 0)} / ${fmt(r.p99, 0)} ms`,
  `${intFmt(o.requests)} / ${intFmt(r.requests)}`,
  `${o.non2xx + o.errors} / ${r.non2xx + r.errors}`,
];

export async function runPeer(opts: { quick: boolean }): Promise<SuiteReport> {
  const random = rng(9);
  const all = shuffle(universe(), random);
  const sourcesN = opts.quick ? 120 : 300;
  const sources = all.slice(0, sourcesN);
  // Warm: the square variants, Zipf popularity (s = 1) in a fixed random order of ranks.
  const squares = shuffle(
    all.filter((v) => v.w === v.h),
    random,
  );
  const pick = zipf(squares.length, 1, random);
  const warmN = opts.quick ? 800 : 3000;
  const warm = Array.from({ length: warmN }, () => squares[pick()]!);
  const repeat = 1 - new Set(warm).size / warm.length;

  const run = (kind: 'ours' | 'ipx', list: Want[]) =>
    withServer(kind, async (url) => {
      // One request first so both start with a warm connection pool and JIT, not a render cache.
      await fetch(`${url}${kind === 'ours' ? '/healthz' : ipxPath({ ...list[0]!, w: 8, h: 8 })}`).then((r) => r.arrayBuffer());
      return load({ url, connections: CONNECTIONS, paths: list.map(kind === 'ours' ? oursPath : ipxPath) });
    });

  const sourcesOurs = await run('ours', sources);
  const sourcesIpx = await run('ipx', sources);
  const warmOurs = await run('ours', warm);
  const warmIpx = await run('ipx', warm);

  const table: Table = {
    caption: `ours / ipx. ${CONNECTIONS} connections; warm sources = ${sourcesN} distinct variants (${loadCorpus().length} images × w,h ∈ {${SIDES.join(',')}} × WebP/JPEG, shuffled); warm = ${warmN} requests, Zipf(1) over ${squares.length} square variants (${fmt(repeat * 100, 0)}% repeats).`,
    headers: ['mix', 'req/s', 'p50', 'p99', 'requests', 'errors'],
    rows: [row('warm sources', sourcesOurs, sourcesIpx), row('warm', warmOurs, warmIpx)],
  };
  return {
    id: 'peer',
    title: 'Peer over HTTP, warm sources: our Node host vs ipx',
    method:
      'Both servers run as child processes on 127.0.0.1 and read the same originals (samples/demo); autocannon drives them from this process with the same request list in the same order. ' +
      'Ours: `startNodeApp` (fresh data directory per run, so every warm-sources request is a render, though of an original it has already decoded). ipx 3 with its filesystem storage, served by its node listener (what `ipx serve` wraps).',
    headlines: [
      {
        metric: 'warm-sources mix req/s (new variants of 7 originals)',
        ours: fmt(sourcesOurs.rps, 1),
        reference: fmt(sourcesIpx.rps, 1),
        referenceName: 'ipx',
        ratio: ratio(sourcesOurs.rps, sourcesIpx.rps),
        target: '≥ 1×',
        met: sourcesOurs.rps >= sourcesIpx.rps,
      },
      { metric: 'warm-sources mix p99', ours: `${fmt(sourcesOurs.p99, 0)} ms`, reference: `${fmt(sourcesIpx.p99, 0)} ms`, referenceName: 'ipx', ratio: ratio(sourcesOurs.p99, sourcesIpx.p99) },
      { metric: `warm mix req/s (${fmt(repeat * 100, 0)}% repeats)`, ours: fmt(warmOurs.rps, 1), reference: fmt(warmIpx.rps, 1), referenceName: 'ipx', ratio: ratio(warmOurs.rps, warmIpx.rps) },
      { metric: 'warm mix p99', ours: `${fmt(warmOurs.p99, 0)} ms`, reference: `${fmt(warmIpx.p99, 0)} ms`, referenceName: 'ipx', ratio: ratio(warmOurs.p99, warmIpx.p99) },
    ],
    tables: [table],
    notes: [
      'Warm sources, not cold: 7 originals serve all the variants, so ours decodes each once and renders the rest from its kept master (render/master.ts), and ipx reads the same 7 files from the page cache. Real misses are mostly the first touch of an original: that is the first-touch suite, the headline cold figure.',
      'imgproxy: not measured. Building it needs github.com/imgproxy/imgproxy/v3 from the Go module proxy, which answers 403 "This module version is not available" for both @latest and a pinned v3.24.1 here (Debian\'s libvips-dev 8.14 installed fine).',
      'ipx keeps no result cache, so its warm figure only benefits from the OS page cache; ours serves repeats from its in-process cache.',
    ],
  };
}
