/** Memory suite: peak RSS of a fresh process rendering the largest corpus image, ours vs sharp. */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { sniffImage } from '../../src/core/image/sniff.js';
import { runChild } from './lib/child.js';
import { CORPUS_DIR, REPO, loadCorpus } from './lib/corpus.js';
import type { SuiteReport } from './lib/report.js';
import { fmt, ratio } from './lib/stats.js';

const mbOf = (kb: number) => kb / 1024;

export async function runMemory(_opts: { quick: boolean }): Promise<SuiteReport> {
  const largest = loadCorpus()
    .map((c) => ({ ...c, info: sniffImage(c.bytes)! }))
    .sort((a, b) => b.info.width * b.info.height - a.info.width * a.info.height)[0]!;
  const file = join(CORPUS_DIR, largest.file);
  const cases = [
    { size: 512, format: 'webp' },
    { size: 128, format: 'jpeg' },
  ];
  const rows: string[][] = [];
  const peaks: { ours: number; sharp: number }[] = [];
  for (const c of cases) {
    const sharp = await runChild('scripts/bench/children/memory-render.ts', ['sharp', file, String(c.size), c.format]);
    const s = mbOf(sharp.maxRssKb as number);
    for (const kind of ['ours', 'pool'] as const) {
      const ours = await runChild('scripts/bench/children/memory-render.ts', [kind, file, String(c.size), c.format]);
      const o = mbOf(ours.maxRssKb as number);
      if (kind === 'pool') peaks.push({ ours: o, sharp: s });
      rows.push([
        `${c.size} px ${c.format}, ${kind === 'pool' ? 'render threads (Node host)' : 'in-process renderer'}`,
        `${fmt(o, 0)} MB / ${fmt(s, 0)} MB = ${ratio(o, s)}`,
        `${fmt(mbOf(ours.baseRssKb as number), 0)} MB / ${fmt(mbOf(sharp.baseRssKb as number), 0)} MB`,
        ours.afterRssKb ? `${fmt(mbOf(ours.afterRssKb as number), 0)} MB` : '',
      ]);
    }
  }
  // The same in-process render as plain JavaScript (esbuild bundle, no tsx), as a deployment
  // that bundles would run it: what the TypeScript loader itself costs.
  const bundle = join(mkdtempSync(join(tmpdir(), 'avatar-bench-')), 'memory-render.mjs');
  await build({ entryPoints: [join(REPO, 'scripts/bench/children/memory-render.ts')], bundle: true, platform: 'node', format: 'esm', outfile: bundle, external: ['sharp'], logLevel: 'warning' });
  for (const c of cases) {
    const ours = await runChild(bundle, ['ours', file, String(c.size), c.format]);
    rows.push([`${c.size} px ${c.format}, in-process renderer, bundled (plain node, no tsx)`, `${fmt(mbOf(ours.maxRssKb as number), 0)} MB`, `${fmt(mbOf(ours.baseRssKb as number), 0)} MB`, '']);
  }
  rmSync(dirname(bundle), { recursive: true, force: true });
  const worst = peaks.reduce((a, b) => (b.ours > a.ours ? b : a));
  const mp = (largest.info.width * largest.info.height) / 1e6;
  return {
    id: 'memory',
    title: 'Memory: peak RSS rendering the largest source',
    method:
      `${largest.file} (${largest.info.width}×${largest.info.height}, ${fmt(mp, 1)} MP, ${fmt(statSync(file).size / 2 ** 20, 1)} MB ${largest.info.format}) rendered once in a fresh Node process; ` +
      'peak RSS (VmHWM) at the end. Ours: the jsquash renderer after its warm-up, in process and on the render threads the Node host uses (the headline). Reference: sharp in another fresh process.',
    headlines: [
      { metric: `peak RSS, ${fmt(mp, 0)} MP source`, ours: `${fmt(worst.ours, 0)} MB`, reference: `${fmt(worst.sharp, 0)} MB`, referenceName: 'sharp', ratio: ratio(worst.ours, worst.sharp), target: '< 256 MB', met: worst.ours < 256 },
    ],
    tables: [{ headers: ['variant', 'peak RSS ours / sharp', 'RSS before the render ours / sharp', 'RSS 1.5 s after (thread recycled)'], rows }],
    notes: [
      'Both run under tsx, which alone adds ~35 MB to a bare Node process (39 → 74 MB here). The jsquash JPEG decoder then needs ~110 MB of WebAssembly memory for a 16 MP progressive JPEG (its coefficient buffer plus the RGBA output) and hands back a 64 MB JavaScript copy of the pixels, both alive at the peak; it cannot decode at a reduced scale as libvips does.',
    ],
  };
}
