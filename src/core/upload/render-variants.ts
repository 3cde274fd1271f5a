import { errorText, mapBounded, withRetries } from '../admin/bounded.js';
import type { ObjectStore, Renderer } from '../ports.js';
import { putVariant } from '../stored-variant.js';
import { type Variant, variantName } from '../variant.js';

/**
 * Every render decodes the original again, so two at once is what a 2-core host can afford
 * without starving the requests it serves; uploads and the precompute CLI both default to it.
 */
export const DEFAULT_RENDER_CONCURRENCY = 2;

export interface RenderVariantsResult {
  stored: number;
  bytes: number;
  failed: Array<{ variant: string; error: string }>;
}

/**
 * Renders `variants` from one original and writes each to the variant store, at most
 * `concurrency` at a time. A failing variant does not stop the others: it is reported, and
 * renders on its first request instead. `signal` stops new renders from starting; `shouldStop`
 * (a takedown of the image started) also keeps a finished render from being written.
 */
export async function renderVariants(opts: {
  store: ObjectStore;
  renderer: Renderer;
  source: Uint8Array;
  variants: readonly Variant[];
  concurrency?: number;
  signal?: AbortSignal;
  shouldStop?: () => boolean;
  onStored?: (variant: Variant, bytes: number) => void;
}): Promise<RenderVariantsResult> {
  const result: RenderVariantsResult = { stored: 0, bytes: 0, failed: [] };
  await mapBounded(opts.variants, opts.concurrency ?? DEFAULT_RENDER_CONCURRENCY, async (variant) => {
    if (opts.signal?.aborted || opts.shouldStop?.()) return;
    try {
      const rendered = await opts.renderer.render(opts.source, variant);
      if (opts.shouldStop?.()) return;
      // The render is the expensive part: a store's passing 500 on the write gets retried, not wasted.
      const put = await withRetries(() => putVariant(opts.store, variant, rendered.body));
      if (!put.ok) throw new Error(put.error);
      result.stored++;
      result.bytes += rendered.body.byteLength;
      opts.onStored?.(variant, rendered.body.byteLength);
    } catch (err) {
      result.failed.push({ variant: variantName(variant), error: errorText(err) });
    }
  });
  return result;
}
