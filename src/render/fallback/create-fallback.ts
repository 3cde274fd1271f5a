/**
 * The generated fallback for the variant loader (core/delivery/variant-loader.ts calls it when an
 * original is missing and the tenant's `fallback` is 'generated'): deterministic pixels from
 * the id, sized to the variant, encoded by the same codecs and quality as any rendered variant.
 */
import type { Variant } from '../../core/variant.js';
import type { Codecs } from '../codecs.js';
import { avatarPixels, fallbackSize } from './avatar-pixels.js';

export type FallbackGenerator = (variant: Variant) => Promise<Uint8Array>;

export function createGeneratedFallback(codecs: Pick<Codecs, 'encode'>): FallbackGenerator {
  return async (variant) => {
    const { width, height } = fallbackSize(variant);
    return codecs.encode(variant.format, avatarPixels(variant.id, width, height), variant.quality);
  };
}
