/**
 * The in-process renderer (Node, Deno): sniff → limits → decode → fit (crop, pre-shrink,
 * lanczos3, orientation, letterbox) → flatten for JPEG → encode, with jsquash WASM codecs.
 */
import { LIMIT_DEFAULTS, type Limits } from '../core/config/service-config.js';
import { type ImageInfo, orientedSize } from '../core/image/sniff.js';
import type { Renderer, RenderResult } from '../core/ports.js';
import type { Variant } from '../core/variant.js';
import { flattenAlpha, usesAlpha } from './alpha.js';
import type { CodecModules } from './codec-modules.js';
import { createCodecs, type DecodeInto } from './codecs.js';
import { decodeSource } from './decode-source.js';
import { fitImage } from './fit-image.js';
import { type ScaleDenominator, scaleDenominator } from './jpeg-scaled.js';
import { planGeometry } from './geometry.js';
import { type Master, makeMaster, masterFactor, masterServes } from './master.js';
import { type WarmUpReport, warmUp } from './warm-up.js';
import type { FocalFinder } from './focal/find-focal.js';

export interface JsquashRendererOptions {
  /** Source limits enforced from the header before decoding; LIMIT_DEFAULTS when absent. */
  limits?: Pick<Limits, 'maxSourceBytes' | 'maxSourcePixels'>;
  /** Integer box pre-shrink before lanczos3 for large sources (default true). */
  preShrink?: boolean;
  /** Run after a large decode (codecs.ts `CodecOptions`). */
  collectGarbage?: () => void;
  /**
   * Finds an original's focal point for a face/auto cover crop whose variant carries no stored
   * record (focal/find-focal.ts); without it such crops are centred.
   */
  findFocal?: FocalFinder;
}

export interface JsquashRenderer extends Renderer {
  /** One tiny decode/resize/encode per codec, checked, so the first request is not slow. */
  warmUp(): Promise<WarmUpReport>;
  /**
   * Like render, and also returns the source's master (master.ts: shrunk for large sources,
   * the decoded pixels otherwise); the variant itself is rendered from that master whenever
   * the master serves it, so it comes out the same as every later render from the kept master.
   */
  renderKeepingMaster(source: Uint8Array, variant: Variant): Promise<RenderResult & { master: Master }>;
  /** Renders from a master kept earlier (the caller checked `masterServes`): no decode. */
  renderFromMaster(master: Master, variant: Variant): Promise<RenderResult>;
}

/** How much larger than the target a reduced JPEG decode stays (see variantDenominator). */
export const DCT_MARGIN = 2;

/**
 * The scale a JPEG can be decoded at for this variant: the region it uses (planned in the
 * displayed orientation) stays at least DCT_MARGIN × the target.
 */
export function variantDenominator(info: ImageInfo, variant: Pick<Variant, 'width' | 'height' | 'fit'>): ScaleDenominator {
  const plan = planGeometry(orientedSize(info), variant);
  return scaleDenominator(plan.crop, plan.scaled, DCT_MARGIN);
}

export function createJsquashRenderer(modules: CodecModules, opts: JsquashRendererOptions = {}): JsquashRenderer {
  const codecs = createCodecs(modules, { collectGarbage: opts.collectGarbage });
  const limits = opts.limits ?? LIMIT_DEFAULTS;
  const fitOptions = { preShrink: opts.preShrink ?? true };

  /** fit → flatten for JPEG → encode; `decodeMs` is what getting `image` cost. */
  async function finish(image: ImageData, info: Master['info'], variant: Variant, decodeMs: number): Promise<RenderResult> {
    const t0 = performance.now();
    const needsFocal = variant.fit === 'cover' && variant.gravity !== undefined && variant.gravity !== 'center' && !variant.focal;
    const focal = needsFocal && opts.findFocal ? await opts.findFocal(image, info.orientation) : undefined;
    if (focal) variant = { ...variant, focal };
    const t1 = performance.now();
    const fitted = await fitImage(codecs, image, info, variant, fitOptions);
    const t2 = performance.now();
    const pixels = variant.format === 'jpeg' && fitted.hasAlpha ? flattenAlpha(fitted.image) : fitted.image;
    const body = await codecs.encode(variant.format, pixels, variant.quality);
    const t3 = performance.now();
    return {
      body,
      width: pixels.width,
      height: pixels.height,
      timings: { decode: decodeMs, resize: t2 - t1, encode: t3 - t2, ...(focal ? { detect: t1 - t0 } : {}) },
      ...(focal ? { focal } : {}),
    };
  }

  const renderer: JsquashRenderer = {
    async render(source: Uint8Array, variant: Variant): Promise<RenderResult> {
      const t0 = performance.now();
      const { info, image } = await decodeSource(codecs, source, limits, { denominator: (info) => variantDenominator(info, variant) });
      return finish(image, info, variant, performance.now() - t0);
    },

    async renderKeepingMaster(source, variant) {
      const t0 = performance.now();
      // A JPEG's master is decoded straight at the master's scale (masterFactor is then a power
      // of two), or larger when the variant needs more: jpeg-scaled.ts.
      const denominator = (info: ImageInfo): ScaleDenominator => {
        const k = masterFactor(info) as ScaleDenominator;
        return k > 1 ? (Math.min(k, variantDenominator(info, variant)) as ScaleDenominator) : 1;
      };
      // Otherwise a shrunk master that will serve this variant is made straight from the
      // decoder's output, without the full-size copy (codecs.ts: ~64 MB less at the peak for
      // 16 MP); the same pixels as makeMaster on the copy. Else the variant needs the decoded source itself.
      let shrunk: Master | undefined;
      const into = (info: ImageInfo): DecodeInto | undefined => {
        const k = masterFactor(info);
        if (k <= 1) return undefined;
        const planned = { image: { width: Math.floor(info.width / k), height: Math.floor(info.height / k) } as ImageData, factor: k, info };
        if (!masterServes(planned, variant)) return undefined;
        return {
          width: info.width,
          height: info.height,
          use: (full) => (shrunk = makeMaster(full, info, k, info.hasAlpha && usesAlpha(full))).image,
        };
      };
      const decoded = await decodeSource(codecs, source, limits, { into, denominator });
      const { info, image } = decoded;
      if (shrunk) {
        const decodeMs = performance.now() - t0;
        return { ...(await finish(shrunk.image, shrunk.info, variant, decodeMs)), master: shrunk };
      }
      const factor = masterFactor(info);
      // From a reduced decode (1/d), what is left of the master's shrink; JPEGs have no alpha.
      const master =
        decoded.denominator > 1
          ? { ...makeMaster(image, info, factor / decoded.denominator, false), factor }
          : makeMaster(image, info, factor, factor > 1 && info.hasAlpha && usesAlpha(image));
      const decodeMs = performance.now() - t0; // the master's shrink counts as decoding
      const result = masterServes(master, variant) ? await finish(master.image, master.info, variant, decodeMs) : await finish(image, info, variant, decodeMs);
      return { ...result, master };
    },

    renderFromMaster: (master, variant) => finish(master.image, master.info, variant, 0),

    warmUp: () => warmUp(renderer, codecs),
  };
  return renderer;
}
