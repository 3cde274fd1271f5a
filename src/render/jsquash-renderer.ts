/**
 * The in-process renderer (Node, Deno): sniff → limits → decode → fit (crop, pre-shrink,
 * lanczos3, orientation, letterbox) → flatten for JPEG → encode, with jsquash WASM codecs.
 */
import { LIMIT_DEFAULTS, type Limits } from '../core/config/service-config.js';
import { type ImageInfo, orientedSize, sniffImage } from '../core/image/sniff.js';
import { wantsFocal } from '../core/focal-point.js';
import type { RenderCallOptions, Renderer, RenderResult } from '../core/ports.js';
import type { Variant } from '../core/variant.js';
import { flattenAlpha, usesAlpha } from './alpha.js';
import { animates, planAnimation } from './animation/animation-plan.js';
import { renderAnimation } from './animation/render-animation.js';
import type { CodecModules } from './codec-modules.js';
import { createCodecs, type DecodeInto } from './codecs.js';
import { checkSource, decodeSource } from './decode-source.js';
import { fitImage } from './fit-image.js';
import { jpegScaleDenominator, type ScaleDenominator, scaleDenominator } from './jpeg-scaled.js';
import { planGeometry } from './geometry.js';
import { detectionFactor, type Master, makeMaster, masterFactor, masterServes, needsDetectionScale } from './master.js';
import { type WarmUpReport, warmUp } from './warm-up.js';
import type { FocalFinder } from './focal/find-focal.js';

export interface JsquashRendererOptions {
  /** Source limits and the memory budget (render-memory.ts) enforced from the header before decoding; LIMIT_DEFAULTS when absent. */
  limits?: Pick<Limits, 'maxSourceBytes' | 'maxSourcePixels'> & Partial<Pick<Limits, 'renderMemoryBytes'>>;
  /** Integer box pre-shrink before lanczos3 for large sources (default true). */
  preShrink?: boolean;
  /** Run after a large decode (codecs.ts `CodecOptions`). */
  collectGarbage?: () => void;
  /** WebAssembly memory an instance may keep between calls (codecs.ts `CodecOptions`). */
  keepInstanceBytes?: number;
  /**
   * Whether `warmUp` also renders photo-like sources (warm-up.ts `photoPass`), so V8 optimises
   * the codecs before traffic. The Node host's threads do; the Deno host's do not: its
   * first-touch peak came out at 400 and 354 MB with the pass, 336 and 354 without (target
   * 384), its speed did not move, and its workers keep codec instances longer (wasm-decoder.ts).
   */
  photoWarmUp?: boolean;
  /**
   * Finds an original's focal point for a face/auto cover crop whose variant carries no stored
   * record (focal/find-focal.ts); without it such crops are centred.
   */
  findFocal?: FocalFinder;
}

/**
 * Called between a render's stages (after the decode, after the resize) so a render past its
 * deadline stops there: scheduler/deadline.ts. A single WebAssembly call (one decode) cannot
 * be interrupted from its own thread; only terminating the thread stops it.
 */
export type Checkpoint = () => void;

/** `handOver` means nothing here: the source is read where it lies, never copied. */
export interface RenderOptions extends RenderCallOptions {
  checkpoint?: Checkpoint;
}

export interface KeepingMasterOptions extends RenderOptions {
  /**
   * Decode at the scale of a full master (master.ts `masterFactor`: a short side of at least
   * 1024 px, serving cover boxes up to 512 px) rather than at this variant's: for a source
   * asked for again, whose kept master fell short (scheduler/pool.ts).
   */
  atMasterScale?: boolean;
}

export interface JsquashRenderer extends Renderer {
  render(source: Uint8Array, variant: Variant, opts?: RenderOptions): Promise<RenderResult>;
  /** One tiny decode/resize/encode per codec, checked, so the first request is not slow. */
  warmUp(): Promise<WarmUpReport>;
  /**
   * Like render, and also returns what it decoded as the source's master (master.ts), so
   * keeping one never makes this render slower: a JPEG, still WebP or non-interlaced PNG is decoded at the scale THIS variant
   * needs (variantDenominator, as `render` does) and that decode is the master (shrunk further
   * when it is larger than a master needs); other formats are decoded at full size and kept
   * box-shrunk when large. The variant is rendered from the master whenever the master serves
   * it, so it comes out the same as every later render from the kept master. An animation
   * (animation/animation-plan.ts) keeps none: `master` is then absent.
   */
  renderKeepingMaster(source: Uint8Array, variant: Variant, opts?: KeepingMasterOptions): Promise<RenderResult & { master?: Master }>;
  /** Renders from a master kept earlier (the caller checked `masterServes`): no decode. */
  renderFromMaster(master: Master, variant: Variant, opts?: RenderOptions): Promise<RenderResult>;
}

/**
 * How much larger than the target a reduced decode of a still WebP or non-interlaced PNG stays
 * (see variantDenominator). A PNG's reduced decode averages d×d blocks with their alpha as is:
 * at a 1× margin, plant.png (alpha) at 64 px fell from SSIM 0.963 to 0.932.
 */
export const DCT_MARGIN = 2;

/**
 * The scale a JPEG, still WebP or non-interlaced PNG (decode-peak.ts `decodesReduced`) can be
 * decoded at for this variant, from the region it uses (planned in the displayed orientation):
 * a JPEG's as libvips shrinks on load (jpeg-scaled.ts `jpegScaleDenominator`), the others'
 * at least DCT_MARGIN × the target; no coarser than the face detector's input when the render
 * must find the focal point (master.ts `detectionFactor`).
 */
export function variantDenominator(info: ImageInfo, variant: Pick<Variant, 'width' | 'height' | 'fit' | 'gravity' | 'focal'>): ScaleDenominator {
  const plan = planGeometry(orientedSize(info), variant);
  const d = info.format === 'jpeg' ? jpegScaleDenominator(plan.crop, plan.scaled) : scaleDenominator(plan.crop, plan.scaled, DCT_MARGIN);
  return needsDetectionScale(variant) ? (Math.min(d, detectionFactor(info)) as ScaleDenominator) : d;
}

export function createJsquashRenderer(modules: CodecModules, opts: JsquashRendererOptions = {}): JsquashRenderer {
  const codecs = createCodecs(modules, { collectGarbage: opts.collectGarbage, keepInstanceBytes: opts.keepInstanceBytes });
  const limits = opts.limits ?? LIMIT_DEFAULTS;
  const fitOptions = { preShrink: opts.preShrink ?? true };

  /**
   * [find the focal point →] fit → flatten for JPEG → encode; `decodeMs` is what getting
   * `image` cost. The focal point is found only for a face/auto cover crop whose variant does
   * not carry the original's record already.
   */
  async function finish(image: ImageData, info: Master['info'], variant: Variant, decodeMs: number, checkpoint?: Checkpoint): Promise<RenderResult> {
    checkpoint?.();
    const t0 = performance.now();
    const focal = wantsFocal(variant) && !variant.focal && opts.findFocal ? await opts.findFocal(image, info.orientation) : undefined;
    if (focal) {
      variant = { ...variant, focal };
      checkpoint?.(); // detection is a stage of its own (the detector's first load included)
    }
    const t1 = performance.now();
    const fitted = await fitImage(codecs, image, info, variant, fitOptions);
    const t2 = performance.now();
    checkpoint?.();
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

  /**
   * The animated WebP of an animated GIF or WebP asked for as WebP (animation/), or undefined
   * for a still render; refusals (limits, memory) before anything is decoded.
   */
  async function animation(source: Uint8Array, variant: Variant, checkpoint?: Checkpoint): Promise<RenderResult | undefined> {
    const sniffed = sniffImage(source);
    if (!sniffed || !animates(variant, sniffed)) return undefined;
    const info = checkSource(source, limits);
    const plan = planAnimation(source, info, variant, limits.renderMemoryBytes ?? LIMIT_DEFAULTS.renderMemoryBytes);
    if (!plan) return undefined;
    const context = { codecs, module: modules.jpegScaled, fit: fitOptions, findFocal: opts.findFocal, checkpoint, collectGarbage: opts.collectGarbage };
    return renderAnimation(context, source, info, variant, plan);
  }

  const renderer: JsquashRenderer = {
    async render(source, variant, opts = {}) {
      const animated = await animation(source, variant, opts.checkpoint);
      if (animated) return animated;
      const t0 = performance.now();
      const { info, image } = await decodeSource(codecs, source, limits, { denominator: (info) => variantDenominator(info, variant) });
      return finish(image, info, variant, performance.now() - t0, opts.checkpoint);
    },

    async renderKeepingMaster(source, variant, opts = {}) {
      const { checkpoint } = opts;
      const animated = await animation(source, variant, checkpoint);
      if (animated) return animated;
      const t0 = performance.now();
      // A large PNG or WebP (no reduced decode) whose shrunk master will serve this variant is
      // made straight from the decoder's output, without the full-size copy (codecs.ts: ~64 MB
      // less at the peak for 16 MP); the same pixels as makeMaster on the copy.
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
      const scale = (info: ImageInfo): ScaleDenominator => {
        const forVariant = variantDenominator(info, variant);
        return opts.atMasterScale ? (Math.min(forVariant, masterFactor(info)) as ScaleDenominator) : forVariant;
      };
      const decoded = await decodeSource(codecs, source, limits, { into, denominator: scale });
      const decodeMs = () => performance.now() - t0; // a master's shrink counts as decoding
      if (shrunk) return { ...(await finish(shrunk.image, shrunk.info, variant, decodeMs(), checkpoint)), master: shrunk };
      const { info, image, denominator } = decoded;
      const k = masterFactor(info);
      if (denominator >= k) {
        // The decode is no larger than a master needs: it is the master, and the variant comes
        // from it exactly as a direct render would.
        const master: Master = denominator > 1 ? { image, factor: denominator, info } : { image, factor: 1, info };
        return { ...(await finish(image, info, variant, decodeMs(), checkpoint)), master };
      }
      // From a reduced decode (1/d), what is left of the master's shrink (both powers of two).
      const alpha = info.hasAlpha && usesAlpha(image);
      const master = denominator > 1 ? { ...makeMaster(image, info, k / denominator, alpha), factor: k } : makeMaster(image, info, k, alpha);
      const fromMaster = masterServes(master, variant);
      const result = await finish(fromMaster ? master.image : image, info, variant, decodeMs(), checkpoint);
      return { ...result, master };
    },

    renderFromMaster: (master, variant, opts = {}) => finish(master.image, master.info, variant, 0, opts.checkpoint),

    warmUp: () => warmUp(renderer, codecs, { photos: opts.photoWarmUp === true }),
  };
  return renderer;
}
