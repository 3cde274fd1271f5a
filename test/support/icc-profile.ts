/**
 * Minimal ICC v2 matrix/TRC display profiles for test fixtures (Adobe RGB (1998), ProPhoto):
 * no ICC file ships on this machine, and sharp can only attach a profile from a file (or its
 * built-in srgb/p3/cmyk). Colorants are the published D50-adapted values of each space; the
 * conversion under test is moxcms's, compared against sharp's (lcms2) on the same file.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Xyz = [number, number, number];

export interface MatrixProfile {
  name: string;
  red: Xyz;
  green: Xyz;
  blue: Xyz;
  /** A pure power-law TRC. */
  gamma: number;
}

export const ADOBE_RGB: MatrixProfile = {
  name: 'Adobe RGB (1998) compatible',
  red: [0.60974, 0.31111, 0.01947],
  green: [0.20528, 0.62567, 0.06087],
  blue: [0.14919, 0.06322, 0.74457],
  gamma: 563 / 256,
};

export const PROPHOTO_RGB: MatrixProfile = {
  name: 'ProPhoto RGB compatible',
  red: [0.7977, 0.288, 0.0],
  green: [0.1352, 0.7119, 0.0],
  blue: [0.0313, 0.0001, 0.8249],
  gamma: 1.8,
};

const D50: Xyz = [0.9642, 1.0, 0.8249];

const s15 = (v: number) => Math.round(v * 65536) | 0;

function tag(sig: string, body: number[]): { sig: string; body: Uint8Array } {
  const b = new Uint8Array(body.length + ((4 - (body.length % 4)) % 4));
  b.set(body);
  return { sig, body: b };
}
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
const u32 = (v: number) => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
const xyz = (v: Xyz) => [...ascii('XYZ '), 0, 0, 0, 0, ...v.flatMap((c) => u32(s15(c)))];

export function iccProfile(p: MatrixProfile): Uint8Array {
  const desc = [...ascii('desc'), 0, 0, 0, 0, ...u32(p.name.length + 1), ...ascii(p.name), 0, ...u32(0), ...u32(0), 0, 0, 0, ...new Array(67).fill(0)];
  const curv = [...ascii('curv'), 0, 0, 0, 0, ...u32(1), Math.floor(p.gamma), Math.round((p.gamma % 1) * 256), 0, 0];
  const tags = [
    tag('desc', desc),
    tag('cprt', [...ascii('text'), 0, 0, 0, 0, ...ascii('No copyright, test fixture'), 0]),
    tag('wtpt', xyz(D50)),
    tag('rXYZ', xyz(p.red)),
    tag('gXYZ', xyz(p.green)),
    tag('bXYZ', xyz(p.blue)),
    tag('rTRC', curv),
  ];
  const table = 4 + (tags.length + 2) * 12;
  let offset = 128 + table;
  const entries: number[] = [];
  const bodies: number[] = [];
  const trcOffset = offset + tags.slice(0, -1).reduce((n, t) => n + t.body.length, 0);
  for (const t of tags) {
    entries.push(...ascii(t.sig), ...u32(offset), ...u32(t.body.length));
    bodies.push(...t.body);
    offset += t.body.length;
  }
  // gTRC and bTRC share rTRC's data, as real gamma profiles do.
  const trcLen = tags[tags.length - 1]!.body.length;
  entries.push(...ascii('gTRC'), ...u32(trcOffset), ...u32(trcLen), ...ascii('bTRC'), ...u32(trcOffset), ...u32(trcLen));
  const size = 128 + table + bodies.length;
  const header = [
    ...u32(size),
    ...ascii('none'),
    2,
    0x10,
    0,
    0,
    ...ascii('mntr'),
    ...ascii('RGB '),
    ...ascii('XYZ '),
    ...new Array(12).fill(0),
    ...ascii('acsp'),
    ...new Array(24).fill(0),
    ...u32(0),
    ...u32(0),
    ...u32(0),
    ...D50.flatMap((c) => u32(s15(c))),
    ...new Array(48).fill(0),
  ];
  // rendering intent (offset 64) 0, illuminant at 68..79 (set above), the rest zero
  const out = new Uint8Array(size);
  out.set(header.slice(0, 128));
  out.set([...u32(tags.length + 2), ...entries], 128);
  out.set(bodies, 128 + table);
  return out;
}

/** The profile written to a temporary file, for sharp's `withIccProfile(path)`. */
export function iccProfileFile(p: MatrixProfile): string {
  const path = join(tmpdir(), `avatar-edge-${p.name.replace(/\W+/g, '-')}.icc`);
  writeFileSync(path, iccProfile(p));
  return path;
}
