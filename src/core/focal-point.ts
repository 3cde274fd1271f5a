/**
 * Focal points: where in an original the interesting part is, so a cover crop keeps it.
 * Found once per original (by the renderer, from the decoded pixels) and stored as a small
 * sidecar object under the image's variant prefix: a takedown or a replaced original deletes
 * it with the variants, and a later render reads it instead of detecting again.
 */
import { variantPrefix } from './storage-keys.js';
import type { Gravity } from './variant.js';

/** A point in the displayed (EXIF-oriented) image, as fractions of its width and height (0..1). */
export interface FocalPoint {
  x: number;
  y: number;
}

/** What detection found in one original; null where it found nothing. */
export interface FocalRecord {
  /** Centre of the detected faces (weighted by area × confidence). */
  face: FocalPoint | null;
  /** Centre of the most salient region; only looked for when there is no face. */
  saliency: FocalPoint | null;
}

/** Bump when detection changes enough that stored records should be found again. */
export const FOCAL_RECORD_VERSION = 1;
const SIDECAR_NAME = 'focal.json';

/** The sidecar's key: inside the variant prefix, so everything that deletes variants deletes it. */
export function focalKey(tenant: string, id: string): string {
  return variantPrefix(tenant, id) + SIDECAR_NAME;
}

/** A face/auto cover crop: the only variants whose pixels depend on the original's focal record. */
export function wantsFocal(v: { fit: string; gravity?: Gravity }): boolean {
  return v.fit === 'cover' && v.gravity !== undefined && v.gravity !== 'center';
}

/** The point a crop centres on for this gravity, or undefined for the plain centre crop. */
export function focalFor(record: FocalRecord | undefined, gravity: Gravity | undefined): FocalPoint | undefined {
  if (!record || !gravity || gravity === 'center') return undefined;
  if (record.face) return record.face;
  return gravity === 'auto' ? (record.saliency ?? undefined) : undefined;
}

export function encodeFocalRecord(r: FocalRecord): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ v: FOCAL_RECORD_VERSION, face: r.face, saliency: r.saliency }));
}

function point(v: unknown): FocalPoint | null | undefined {
  if (v === null) return null;
  if (typeof v !== 'object') return undefined;
  const { x, y } = v as Record<string, unknown>;
  const ok = (n: unknown): n is number => typeof n === 'number' && n >= 0 && n <= 1;
  return ok(x) && ok(y) ? { x, y } : undefined;
}

/** A stored record, or undefined when it is unreadable or from another detector version (then detect again). */
export function decodeFocalRecord(body: Uint8Array): FocalRecord | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null || (raw as { v?: unknown }).v !== FOCAL_RECORD_VERSION) return undefined;
  const face = point((raw as { face?: unknown }).face);
  const saliency = point((raw as { saliency?: unknown }).saliency);
  return face === undefined || saliency === undefined ? undefined : { face, saliency };
}
