import { sniffImage } from './sniff.js';

/**
 * Whether an original has an alpha channel, the one place that knows how it is found out:
 * the `alpha` metadata an upload recorded (alphaMetadata), else the image's header sniffed
 * (no decoding) for originals stored before the flag existed. `read` fetches the bytes to
 * sniff (the whole original, or its first PROBE_BYTES), and is only called when no flag is
 * recorded; undefined when the original is gone by then.
 */
export async function originalHasAlpha(metadata: Record<string, string> | undefined, read: () => Promise<Uint8Array | undefined>): Promise<boolean | undefined> {
  const recorded = metadata?.alpha;
  if (recorded === '1' || recorded === '0') return recorded === '1';
  const bytes = await read();
  return bytes ? (sniffImage(bytes)?.hasAlpha ?? false) : undefined;
}

/** The metadata an upload records with the original, which originalHasAlpha reads back. */
export function alphaMetadata(hasAlpha: boolean): { alpha: '1' | '0' } {
  return { alpha: hasAlpha ? '1' : '0' };
}
