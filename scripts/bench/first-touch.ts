/**
 * First touch: the cold miss real avatar traffic is made of, a variant of an original that
 * nobody requested before, so nothing of it is decoded, kept or cached anywhere. Two suites:
 *
 *   first-touch     ~100 distinct originals of 1–16 MP (lib/originals.ts), each requested once
 *                   (a 64–512 px cover variant), 4 in flight, on our Node host, our Deno host
 *                   and ipx at once, interleaved in rounds.
 *   large-sources   seven originals from 12 MP to the 50 MP pixel limit, all requested at once
 *                   (4 in flight) on a fresh server of each kind: peak resident memory.
 *
 * Every server is a real process on a fresh store (lib/servers.ts); its memory is the kernel's
 * count for that process (lib/proc.ts).
 */
import { type Original, firstTouchOriginals, largeOriginals, megapixels } from './lib/originals.js';
import type { Headline, SuiteReport, Table } from './lib/report.js';
import { statusSummary } from './lib/requests.js';
import { cpuPerOk, failures, interleavedLoad, mainCpuPerOk, ok, p, rps, type ServerLoad } from './lib/server-load.js';
import { type OutFormat, removeBundles, SERVER_NAMES, type Server, type ServerKind, startServer, variantPath } from './lib/servers.js';
import { fmt, median, ratio, rng } from './lib/stats.js';

const CONCURRENCY = 4;
/** Requests per server per interleaved round. */
const ROUND = 20;
const KINDS: ServerKind[] = ['node', 'deno', 'ipx'];
const SIDES = [64, 96, 128, 128, 192, 256, 256, 384, 512];
/** MB: what a host may hold at its peak under first-touch load (issue 13). */
const RSS_TARGET_MB = 384;
/** The seed of the suite's variant list (wantsFor), which bench:stages (stages.ts) renders too. */
const WANTS_SEED = 21;

export interface Want {
  original: Original;
  side: number;
  format: OutFormat;
}

/** One square cover variant per original: sides 64–512, 70% WebP, 15% JPEG, 15% fmt=auto (→ WebP). */
export function wantsFor(originals: readonly Original[], seed = WANTS_SEED): Want[] {
  const random = rng(seed);
  return originals.map((original) => {
    const side = SIDES[Math.floor(random() * SIDES.length)]!;
    const f = random();
    return { original, side, format: f < 0.7 ? 'webp' : f < 0.85 ? 'jpeg' : 'auto' };
  });
}

async function withServers<T>(kinds: readonly ServerKind[], files: readonly Original[], f: (servers: Server[]) => Promise<T>): Promise<T> {
  const servers: Server[] = [];
  try {
    for (const k of kinds) servers.push(await startServer(k, files));
    return await f(servers);
  } finally {
    for (const s of servers) await s.stop();
  }
}

const byKind = (loads: ServerLoad[], k: ServerKind) => loads.find((l) => l.server.kind === k)!;
const mbFmt = (n: number) => `${fmt(n, 0)} MB`;
const msFmt = (n: number) => `${fmt(n, 0)} ms`;

function compositionNote(os: readonly Original[], wants: readonly Want[]): string {
  const count = (pred: (o: Original) => boolean) => os.filter(pred).length;
  const mps = os.map(megapixels);
  const sides = new Map<number, number>();
  for (const w of wants) sides.set(w.side, (sides.get(w.side) ?? 0) + 1);
  const fmts = (k: OutFormat) => wants.filter((w) => w.format === k).length;
  return (
    `Originals: ${os.length} distinct, ${fmt(Math.min(...mps), 1)}–${fmt(Math.max(...mps), 1)} MP (median ${fmt(median(mps), 1)}), ${fmt(os.reduce((a, o) => a + o.size, 0) / 2 ** 20, 0)} MB in all; ` +
    `${count((o) => o.format === 'jpeg' && o.label.includes('baseline'))} baseline JPEG, ${count((o) => o.label.includes('progressive'))} progressive JPEG (q60–95, ${count((o) => o.label.includes('4:4:4'))} of them 4:4:4), ` +
    `${count((o) => o.format === 'png')} PNG (≤ 4 MP), ${count((o) => o.format === 'webp')} WebP (${count((o) => o.label === 'WebP lossless')} lossless). ` +
    `Variants: cover, sides ${[...sides]
      .sort((a, b) => a[0] - b[0])
      .map(([s, n]) => `${s} ×${n}`)
      .join(', ')}; ${fmts('webp')} WebP, ${fmts('jpeg')} JPEG, ${fmts('auto')} fmt=auto (WebP for the Accept sent), q 75.`
  );
}

export async function runFirstTouch(opts: { quick: boolean }): Promise<SuiteReport> {
  const originals = await firstTouchOriginals(opts.quick ? 40 : 100);
  const wants = wantsFor(originals);
  const loads = await withServers(KINDS, originals, (servers) =>
    interleavedLoad(servers, (s) => wants.map((w) => variantPath(s.kind, w.original, w.side, w.side, w.format)), { concurrency: CONCURRENCY, round: ROUND }),
  );
  await removeBundles();
  const [node, deno, ipx] = KINDS.map((k) => byKind(loads, k)) as [ServerLoad, ServerLoad, ServerLoad];
  const clean = (l: ServerLoad) => failures(l) === 0;
  const headlines: Headline[] = [
    {
      metric: 'cold (first touch of an original) req/s, Node host',
      ours: fmt(rps(node), 2),
      reference: fmt(rps(ipx), 2),
      referenceName: 'ipx',
      ratio: ratio(rps(node), rps(ipx)),
      target: '≥ 1×',
      met: rps(node) >= rps(ipx) && clean(node),
    },
    {
      metric: 'cold (first touch) req/s, Deno host',
      ours: fmt(rps(deno), 2),
      reference: fmt(rps(ipx), 2),
      referenceName: 'ipx',
      ratio: ratio(rps(deno), rps(ipx)),
      target: '≥ 0.5×',
      met: rps(deno) >= 0.5 * rps(ipx) && clean(deno),
    },
    {
      metric: 'cold (first touch) CPU per request (server process, all threads), Node host',
      ours: msFmt(cpuPerOk(node)),
      reference: msFmt(cpuPerOk(ipx)),
      referenceName: 'ipx',
      ratio: ratio(cpuPerOk(node), cpuPerOk(ipx)),
    },
    {
      metric: 'cold (first touch) CPU per request (server process, all threads), Deno host',
      ours: msFmt(cpuPerOk(deno)),
      reference: msFmt(cpuPerOk(ipx)),
      referenceName: 'ipx',
      ratio: ratio(cpuPerOk(deno), cpuPerOk(ipx)),
    },
    { metric: 'cold (first touch) p50, Node host', ours: msFmt(p(node, 50)), reference: msFmt(p(ipx, 50)), referenceName: 'ipx', ratio: ratio(p(node, 50), p(ipx, 50)) },
    { metric: 'cold (first touch) p99, Node host', ours: msFmt(p(node, 99)), reference: msFmt(p(ipx, 99)), referenceName: 'ipx', ratio: ratio(p(node, 99), p(ipx, 99)) },
    { metric: 'cold (first touch) p99, Deno host', ours: msFmt(p(deno, 99)), reference: msFmt(p(ipx, 99)), referenceName: 'ipx', ratio: ratio(p(deno, 99), p(ipx, 99)) },
    {
      metric: 'peak RSS under first-touch load, Node host',
      ours: mbFmt(node.peakMb),
      reference: mbFmt(ipx.peakMb),
      referenceName: 'ipx',
      ratio: ratio(node.peakMb, ipx.peakMb),
      target: `≤ ${RSS_TARGET_MB} MB`,
      met: node.peakMb <= RSS_TARGET_MB,
    },
    {
      metric: 'peak RSS under first-touch load, Deno host',
      ours: mbFmt(deno.peakMb),
      reference: mbFmt(ipx.peakMb),
      referenceName: 'ipx',
      ratio: ratio(deno.peakMb, ipx.peakMb),
      target: `≤ ${RSS_TARGET_MB} MB`,
      met: deno.peakMb <= RSS_TARGET_MB,
    },
  ];
  const row = (l: ServerLoad): string[] => [
    SERVER_NAMES[l.server.kind],
    fmt(rps(l), 2),
    msFmt(cpuPerOk(l)),
    `${fmt(mainCpuPerOk(l), 1)} ms`,
    msFmt(p(l, 50)),
    msFmt(p(l, 99)),
    msFmt(p(l, 100)),
    mbFmt(l.idleMb),
    mbFmt(l.peakMb),
    mbFmt(l.afterMb),
    statusSummary(l.outcomes),
  ];
  // Where the time goes: by source format and size, median per request (4 in flight, so queueing included).
  const groups: [string, (o: Original) => boolean][] = [
    ['JPEG ≤ 4 MP', (o) => o.format === 'jpeg' && megapixels(o) <= 4],
    ['JPEG 4–10 MP', (o) => o.format === 'jpeg' && megapixels(o) > 4 && megapixels(o) <= 10],
    ['JPEG > 10 MP', (o) => o.format === 'jpeg' && megapixels(o) > 10],
    ['PNG', (o) => o.format === 'png'],
    ['WebP', (o) => o.format === 'webp'],
  ];
  const idOf = (path: string) => originals.find((o) => path.includes(`/${o.id}`))!;
  const groupMedian = (l: ServerLoad, pred: (o: Original) => boolean) => median(l.outcomes.filter((x) => ok(x) && pred(idOf(x.path))).map((x) => x.ms));
  const byGroup: Table = {
    caption: 'Median time per request by source (ms, 4 in flight: includes waiting for a render slot):',
    headers: ['sources', 'count', 'Node host', 'Deno host', 'ipx', 'Node / ipx'],
    rows: groups.map(([name, pred]) => [
      name,
      String(originals.filter(pred).length),
      fmt(groupMedian(node, pred), 0),
      fmt(groupMedian(deno, pred), 0),
      fmt(groupMedian(ipx, pred), 0),
      ratio(groupMedian(node, pred), groupMedian(ipx, pred)),
    ]),
  };
  return {
    id: 'first-touch',
    title: 'Cold: first touch of an original (Node host, Deno host, ipx)',
    method:
      `Each request is the first for its original: ${originals.length} distinct originals made from the sample photos at bench time (scripts/bench/lib/originals.ts: crops resized over 1–16 MP, film grain on upscaled crops so they decode like camera photos, re-encoded as baseline/progressive JPEG, PNG and WebP; deterministic), each requested once as one cover variant, ${CONCURRENCY} in flight (closed loop, Node's fetch). ` +
      'Three servers run at once as real processes on 127.0.0.1, each on a fresh store holding only these originals: our Node host as `npm start` runs it (bundle under plain node, render threads one per core, directory store), our Deno host as `npm run start:deno` runs it (bundle under deno, directory store), and ipx 3 (sharp/libvips, filesystem storage) bundled the same way. ' +
      `The list goes in rounds of ${ROUND} requests to each server in a rotating order, so noise on the shared machine hits all three. req/s = successful responses ÷ time spent sending; latency from send to last byte. CPU / request: the server process's CPU time (/proc/<pid>/stat, all threads) from before its first request until it went quiet after its last, ÷ successful responses; steadier than req/s on this shared machine, since a server waiting for a core accrues none. Main thread / request: the same for the process's main thread alone (/proc/<pid>/task/<pid>/stat), the event loop that parses, reads the store, schedules and answers; the rest is render (or libvips) threads, the collector's threads and the thread pool. ` +
      "Peak RSS: the kernel's high-water mark (VmHWM in /proc/<pid>/status) of the server process, render threads included, after the run; idle is VmRSS before the first request.",
    headlines,
    tables: [
      { headers: ['server', 'req/s', 'CPU / request', 'main thread / request', 'p50', 'p99', 'max', 'RSS idle', 'peak RSS', 'RSS after', 'responses'], rows: [row(node), row(deno), row(ipx)] },
      byGroup,
    ],
    notes: [
      compositionNote(originals, wants),
      'Every request sends Accept: image/webp,image/apng,image/*,*/*;q=0.8 (a browser without AVIF), so fmt=auto is WebP on all three (ipx would pick AVIF for an Accept listing it; ours serves no AVIF).',
      'No EXIF orientation in these originals: ipx does not auto-rotate, ours does, and the work must be the same. The sample photos are the only sources, so large originals are upscaled crops; the grain restores the entropy a camera file has, though real 12 MP phone JPEGs are larger (2–5 MB at q 85–95) than most here (0.3–2 MB).',
      'The warm-sources mix (peer suite) repeats 7 originals, so after the first few requests every render starts from a kept master; this suite is the cold figure.',
    ],
  };
}

export async function runLargeSources(opts: { quick: boolean }): Promise<SuiteReport> {
  const originals = await largeOriginals();
  const sides = [512, 256, 128, 384, 64, 192, 256];
  const formats: OutFormat[] = ['webp', 'webp', 'jpeg', 'webp', 'auto', 'webp', 'jpeg'];
  const loads: ServerLoad[] = [];
  // One server at a time on a fresh store: each peak is that server's alone.
  for (const kind of opts.quick ? KINDS : [...KINDS, ...KINDS]) {
    const [l] = await withServers([kind], originals, (servers) =>
      interleavedLoad(servers, (s) => originals.map((o, i) => variantPath(s.kind, o, sides[i]!, sides[i]!, formats[i]!)), { concurrency: CONCURRENCY, round: originals.length }),
    );
    loads.push(l!);
  }
  await removeBundles();
  // Two runs each in a full run: the larger peak counts (it is what a host must be sized for).
  const worst = (k: ServerKind) => loads.filter((l) => l.server.kind === k).reduce((a, b) => (b.peakMb > a.peakMb ? b : a));
  const [node, deno, ipx] = KINDS.map(worst) as [ServerLoad, ServerLoad, ServerLoad];
  const wall = (l: ServerLoad) => l.seconds;
  const perOriginal: Table = {
    caption: `Time per original (ms, ${CONCURRENCY} in flight, so a later request also waits for a slot) and status:`,
    headers: ['original', 'variant', 'Node host', 'Deno host', 'ipx'],
    rows: originals.map((o, i) => {
      const cell = (l: ServerLoad) => {
        const x = l.outcomes.find((y) => y.path.includes(`/${o.id}`))!;
        return ok(x) ? fmt(x.ms, 0) : `${x.status || x.error}${x.code ? ` ${x.code}` : ''} after ${fmt(x.ms, 0)}`;
      };
      return [`${o.id} (${o.width}×${o.height}, ${fmt(o.size / 2 ** 20, 1)} MB ${o.label})`, `${sides[i]} px ${formats[i]}`, cell(node), cell(deno), cell(ipx)];
    }),
  };
  const row = (l: ServerLoad) => [SERVER_NAMES[l.server.kind], mbFmt(l.idleMb), mbFmt(l.peakMb), mbFmt(l.afterMb), `${fmt(wall(l), 1)} s`, statusSummary(l.outcomes)];
  return {
    id: 'large-sources',
    title: 'Memory under concurrent first touch of large sources',
    method:
      `${originals.length} originals from ${fmt(Math.min(...originals.map(megapixels)), 0)} to ${fmt(Math.max(...originals.map(megapixels)), 1)} MP (the pixel limit is 50 MP), made at bench time like the first-touch set; ` +
      `all requested at once, ${CONCURRENCY} in flight, one variant each, on a fresh server of each kind in turn (${opts.quick ? 'once' : 'twice each, the larger peak counts'}), servers started as in the first-touch suite. ` +
      "Peak RSS is the server process's VmHWM after the run (render threads included).",
    headlines: [
      {
        metric: 'peak RSS, sources up to 50 MP, 4 in flight, Node host',
        ours: mbFmt(node.peakMb),
        reference: mbFmt(ipx.peakMb),
        referenceName: 'ipx',
        ratio: ratio(node.peakMb, ipx.peakMb),
        target: `≤ ${RSS_TARGET_MB} MB`,
        met: node.peakMb <= RSS_TARGET_MB && failures(node) === 0,
      },
      {
        metric: 'peak RSS, sources up to 50 MP, 4 in flight, Deno host',
        ours: mbFmt(deno.peakMb),
        reference: mbFmt(ipx.peakMb),
        referenceName: 'ipx',
        ratio: ratio(deno.peakMb, ipx.peakMb),
        target: `≤ ${RSS_TARGET_MB} MB`,
        met: deno.peakMb <= RSS_TARGET_MB && failures(deno) === 0,
      },
    ],
    tables: [{ headers: ['server', 'RSS idle', 'peak RSS', 'RSS after', 'all answered in', 'responses'], rows: [row(node), row(deno), row(ipx)] }, perOriginal],
    notes: ['A target is met only if every request was answered with an image: a host that stays small by refusing large sources does not meet it.'],
  };
}
