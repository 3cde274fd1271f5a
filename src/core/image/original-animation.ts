import { isAnimatedImage } from './animation-header.js';

/** Source types that are never rendered animated: their originals need no read. */
const STILL_TYPES = new Set(['image/jpeg', 'image/png', 'image/avif']);

/**
 * Whether an original is an animated GIF or WebP, found out like its alpha (original-alpha.ts):
 * the `animated` metadata an upload recorded (animationMetadata), else, unless the content type
 * is a still one (JPEG, PNG, AVIF), the header walked (no decoding) for originals stored before the flag
 * existed. `read` fetches the bytes (the whole original, or its first PROBE_BYTES) and is only
 * called then; undefined when the original is gone by then.
 */
export async function originalIsAnimated(original: { contentType?: string; metadata?: Record<string, string> }, read: () => Promise<Uint8Array | undefined>): Promise<boolean | undefined> {
  const recorded = original.metadata?.animated;
  if (recorded === '1' || recorded === '0') return recorded === '1';
  const type = (original.contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (STILL_TYPES.has(type)) return false;
  const bytes = await read();
  return bytes ? isAnimatedImage(bytes) : undefined;
}

/** The metadata an upload records with the original, which originalIsAnimated reads back. */
export function animationMetadata(animated: boolean): { animated: '1' | '0' } {
  return { animated: animated ? '1' : '0' };
}
