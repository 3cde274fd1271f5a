/**
 * An animated WebP assembled from still WebP encodes, per Google's WebP container
 * specification (developers.google.com/speed/webp/docs/riff_container): RIFF 'WEBP', a VP8X
 * chunk with the animation flag (and alpha when a frame has any), ANIM (background colour and
 * loop count), then one ANMF per frame holding that still's image chunks (ALPH + 'VP8 ', or
 * VP8L) unchanged. Pure byte work, no decoder: runs on every host.
 */

export interface MuxFrame {
  /** A still WebP file (what the encoder returned), width × height. */
  still: Uint8Array;
  width: number;
  height: number;
  /** Display time in milliseconds (at most 2^24 − 1). */
  durationMs: number;
}

export interface MuxOptions {
  width: number;
  height: number;
  /** 0 plays forever; otherwise how many times the animation plays. */
  loopCount: number;
  /** The canvas background as RGBA (a hint to viewers; default transparent). */
  background?: readonly [number, number, number, number];
}

const ascii = (b: Uint8Array, at: number): string => String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
const u32le = (b: Uint8Array, at: number): number => ((b[at] ?? 0) | ((b[at + 1] ?? 0) << 8) | ((b[at + 2] ?? 0) << 16) | ((b[at + 3] ?? 0) << 24)) >>> 0;

/** The image chunks of a still WebP (ALPH, 'VP8 ', VP8L, with headers and padding), and whether it has alpha. */
export function stillImageChunks(still: Uint8Array): { chunks: Uint8Array; alpha: boolean } {
  if (still.length < 20 || ascii(still, 0) !== 'RIFF' || ascii(still, 8) !== 'WEBP') throw new Error('webp-mux: not a WebP file');
  const parts: Uint8Array[] = [];
  let alpha = false;
  for (let i = 12; i + 8 <= still.length; ) {
    const type = ascii(still, i);
    const len = u32le(still, i + 4);
    const end = i + 8 + len + (len & 1);
    if (end > still.length + (len & 1)) throw new Error(`webp-mux: ${type} chunk runs past the file`);
    if (type === 'ALPH' || type === 'VP8 ' || type === 'VP8L') {
      parts.push(still.subarray(i, Math.min(end, still.length)));
      // VP8L: the alpha_is_used bit of its header.
      if (type === 'ALPH' || (type === 'VP8L' && ((still[i + 8 + 4] ?? 0) & 0x10) !== 0)) alpha = true;
    }
    i = end;
  }
  if (!parts.some((p) => ascii(p, 0) !== 'ALPH')) throw new Error('webp-mux: no image chunk in the still');
  return { chunks: concat(parts), alpha };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length + (p.length & 1), 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length + (p.length & 1); // a chunk cut at the end of its file loses only its pad byte
  }
  return out;
}

function put24(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
}

function put32(b: Uint8Array, at: number, v: number): void {
  put24(b, at, v);
  b[at + 3] = (v >>> 24) & 0xff;
}

function chunkHeader(type: string, len: number): Uint8Array {
  const h = new Uint8Array(8);
  for (let k = 0; k < 4; k++) h[k] = type.charCodeAt(k);
  put32(h, 4, len);
  return h;
}

const MAX_24 = 0xffffff;

/**
 * The animated WebP: every frame covers the whole canvas at (0, 0), replaces what was there
 * (no blending) and is not disposed, so a viewer shows each composited frame exactly as given.
 */
export function muxAnimatedWebp(frames: readonly MuxFrame[], opts: MuxOptions): Uint8Array {
  if (frames.length === 0) throw new Error('webp-mux: no frames');
  const { width, height } = opts;
  if (width < 1 || height < 1 || width > MAX_24 + 1 || height > MAX_24 + 1) throw new Error(`webp-mux: canvas ${width}×${height}`);
  let alpha = false;
  const parts: Uint8Array[] = [];
  for (const f of frames) {
    if (f.width !== width || f.height !== height) throw new Error(`webp-mux: a ${f.width}×${f.height} frame on a ${width}×${height} canvas`);
    const image = stillImageChunks(f.still);
    alpha ||= image.alpha;
    const head = new Uint8Array(16);
    // X/2 and Y/2 stay 0; width − 1, height − 1, duration; flags: bit 1 = do not blend, bit 0 = dispose (no).
    put24(head, 6, width - 1);
    put24(head, 9, height - 1);
    put24(head, 12, Math.max(0, Math.min(MAX_24, Math.round(f.durationMs))));
    head[15] = 0x02;
    parts.push(chunkHeader('ANMF', head.length + image.chunks.length), head, image.chunks);
  }
  const vp8x = new Uint8Array(10);
  vp8x[0] = 0x02 | (alpha ? 0x10 : 0); // animation, alpha
  put24(vp8x, 4, width - 1);
  put24(vp8x, 7, height - 1);
  const anim = new Uint8Array(6);
  const [r, g, b, a] = opts.background ?? [0, 0, 0, 0];
  anim.set([b, g, r, a], 0); // stored as B, G, R, A
  anim[4] = opts.loopCount & 0xff;
  anim[5] = (opts.loopCount >>> 8) & 0xff;
  const body = concat([chunkHeader('VP8X', 10), vp8x, chunkHeader('ANIM', 6), anim, ...parts]);
  const riff = chunkHeader('RIFF', 4 + body.length);
  return concat([riff, new Uint8Array([0x57, 0x45, 0x42, 0x50]), body]); // 'WEBP'
}
