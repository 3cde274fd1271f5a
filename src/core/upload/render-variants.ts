import { errorText, mapBounded, withRetries } from '../bounded.js';
import type { ObjectStore, Renderer } from '../ports.js';
import { putVariant } from '../delivery/stored-variant.js';
import { type Variant, variantName } from '../variant.js';
import { type FocalRecord, decodeFocalRecord, encodeFocalRecord, focalKey, wantsFocal } from '../focal-point.js';

/** A face/auto cover crop without the original's focal record: its render would detect. */
const needsFocal = (v: Variant): boolean => wantsFocal(v) && !v.focal;

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
  // The original's focal point is found once: taken from a variant or the store, else by the
  // first render that needs it (alone, before the others), stored, and handed to the rest.
  const needing = opts.variants.filter(needsFocal);
  let focal: FocalRecord | undefined = opts.variants.find((v) => v.focal)?.focal;
  if (!focal && needing[0]) {
    const stored = await opts.store.get(focalKey(needing[0].tenant, needing[0].id)).catch(() => null);
    focal = stored ? decodeFocalRecord(stored.body) : undefined;
  }
  const one = async (variant: Variant) => {
    if (opts.signal?.aborted || opts.shouldStop?.()) return;
    try {
      const rendered = await opts.renderer.render(opts.source, focal && needsFocal(variant) ? { ...variant, focal } : variant);
      if (opts.shouldStop?.()) return;
      if (rendered.focal && !focal) {
        focal = rendered.focal;
        // Best effort: without it, a later render of this original detects again.
        await withRetries(() => opts.store.put(focalKey(variant.tenant, variant.id), encodeFocalRecord(rendered.focal!), { contentType: 'application/json' }));
      }
      // The render is the expensive part: a store's passing 500 on the write gets retried, not wasted.
      const put = await withRetries(() => putVariant(opts.store, variant, rendered.body));
      if (!put.ok) throw new Error(put.error);
      result.stored++;
      result.bytes += rendered.body.byteLength;
      opts.onStored?.(variant, rendered.body.byteLength);
    } catch (err) {
      result.failed.push({ variant: variantName(variant), error: errorText(err) });
    }
  };
  const first = focal ? undefined : needing[0];
  if (first) await one(first);
  await mapBounded(
    opts.variants.filter((v) => v !== first),
    opts.concurrency ?? DEFAULT_RENDER_CONCURRENCY,
    one,
  );
  return result;
}
