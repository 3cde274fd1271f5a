/** Memory suite: peak RSS of a fresh process rendering the largest corpus image, ours vs sharp. */
import { execFileSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
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
  const sharpPeaks = new Map<number, number>();
  for (const c of cases) {
    const sharp = await runChild('scripts/bench/children/memory-render.ts', ['sharp', file, String(c.size), c.format]);
    const s = mbOf(sharp.maxRssKb as number);
    sharpPeaks.set(c.size, s);
    for (const kind of ['ours', 'pool'] as const) {
      const ours = await runChild('scripts/bench/children/memory-render.ts', [kind, file, String(c.size), c.format]);
      const o = mbOf(ours.maxRssKb as number);
      rows.push([
        `${c.size} px ${c.format}, ${kind === 'pool' ? 'render threads, under tsx' : 'in-process renderer, under tsx'}`,
        `${fmt(o, 0)} MB / ${fmt(s, 0)} MB = ${ratio(o, s)}`,
        `${fmt(mbOf(ours.baseRssKb as number), 0)} MB / ${fmt(mbOf(sharp.baseRssKb as number), 0)} MB`,
        ours.afterRssKb ? `${fmt(mbOf(ours.afterRssKb as number), 0)} MB` : '',
      ]);
    }
  }
  // `npm start` runs the host bundled (scripts/build-node.mjs: plain node, no tsx) and so do its
  // render threads: the headline is that bundle's render threads. The bundle goes under dist/
  // so that it finds node_modules and the repository root as dist/node/main.js does.
  const bundleDir = join(REPO, 'dist/bench-memory');
  execFileSync(process.execPath, [join(REPO, 'scripts/build-node.mjs'), '--outdir', bundleDir, '--entry', 'memory-render=scripts/bench/children/memory-render.ts'], { cwd: REPO, stdio: 'inherit' });
  const bundle = join(bundleDir, 'memory-render.js');
  for (const c of cases) {
    const sharp = sharpPeaks.get(c.size)!;
    for (const kind of ['ours', 'pool'] as const) {
      const ours = await runChild(bundle, [kind, file, String(c.size), c.format]);
      const o = mbOf(ours.maxRssKb as number);
      if (kind === 'pool') peaks.push({ ours: o, sharp });
      rows.push([
        `${c.size} px ${c.format}, ${kind === 'pool' ? 'render threads, bundled (the Node host as npm start runs it)' : 'in-process renderer, bundled (plain node, no tsx)'}`,
        `${fmt(o, 0)} MB / ${fmt(sharp, 0)} MB = ${ratio(o, sharp)}`,
        `${fmt(mbOf(ours.baseRssKb as number), 0)} MB`,
        ours.afterRssKb ? `${fmt(mbOf(ours.afterRssKb as number), 0)} MB` : '',
      ]);
    }
  }
  rmSync(bundleDir, { recursive: true, force: true });
  const worst = peaks.reduce((a, b) => (b.ours > a.ours ? b : a));
  const mp = (largest.info.width * largest.info.height) / 1e6;
  return {
    id: 'memory',
    title: 'Memory: peak RSS rendering the largest source',
    method:
      `${largest.file} (${largest.info.width}×${largest.info.height}, ${fmt(mp, 1)} MP, ${fmt(statSync(file).size / 2 ** 20, 1)} MB ${largest.info.format}) rendered once in a fresh Node process; ` +
      'peak RSS (VmHWM) at the end. Ours: the jsquash renderer after its warm-up, in process and on the render threads the Node host uses, under tsx and bundled as `npm start` runs it (scripts/build-node.mjs; the headline is the bundled render threads). Reference: sharp in another fresh process.',
    headlines: [
      {
        metric: `peak RSS, ${fmt(mp, 0)} MP source`,
        ours: `${fmt(worst.ours, 0)} MB`,
        reference: `${fmt(worst.sharp, 0)} MB`,
        referenceName: 'sharp',
        ratio: ratio(worst.ours, worst.sharp),
        target: '< 256 MB',
        met: worst.ours < 256,
      },
    ],
    tables: [{ headers: ['variant', 'peak RSS ours / sharp', 'RSS before the render ours / sharp', 'RSS 1.5 s after (thread recycled)'], rows }],
    notes: [
      "tsx alone adds ~35 MB to a bare Node process (39 → 74 MB here) and ~15 MB to each render thread: `npm start` runs a bundle instead. Both variants here decode the JPEG at a reduced scale (render/jpeg-scaled.ts: both at the scale the variant needs, 1/2 for 512 px and 1/8 for 128 px; the render threads keep that decode as the source's master), so the full 16 MP image never exists; what remains is the decoder's coefficient buffer for a progressive file (two bytes per sample, ~48 MB here), freed before the RGBA output is made, and an instance that grew this large is dropped and collected right after its decode (render/wasm-decoder.ts), before the resize and encode.",
    ],
  };
}
