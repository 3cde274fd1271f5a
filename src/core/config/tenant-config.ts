import { type Fit, type Format, type Gravity, FITS, FORMATS, GRAVITIES, MAX_VARIANT_SIDE } from '../variant.js';
import { TENANT_RE } from '../request/parse-path.js';
import { isSecretShaped, MIN_TOKEN_LENGTH, SECRET_ID_RE, secretShapeText } from './secret-shape.js';

/** What a tenant may configure (loose, as written in JSON or a Config Store). */
export interface TenantInput {
  breakpoints?: number[];
  formats?: Format[];
  /** `fmt=auto`'s preference among the modern formats (each must be in `formats`), before JPEG/PNG. */
  autoFormats?: Format[];
  fits?: Fit[];
  defaultSize?: number;
  defaultQuality?: number;
  qualities?: number[];
  maxDpr?: number;
  requireSignature?: boolean;
  /** Key id → secret (plain text, >= 16 chars). Several at once allow rotation with overlap. */
  keys?: Record<string, string>;
  /** Token id → secret for PUT /_upload/{tenant}/{id} (>= 32 chars). Several at once allow rotation. */
  uploadTokens?: Record<string, string>;
  allowedReferers?: string[];
  allowEmptyReferer?: boolean;
  ttlClass?: 'normal' | 'short';
  /** What a missing original answers: 404 JSON, or a generated avatar. */
  fallback?: 'none' | 'generated';
  /** Where cover crops centre when the URL has no `g` (focal-point.ts). */
  gravity?: Gravity;
}

/** The strict, fully defaulted form the pipeline works with. */
export interface Tenant {
  name: string;
  breakpoints: number[];
  formats: Format[];
  autoFormats: Format[];
  fits: Fit[];
  defaultSize: number;
  defaultQuality: number;
  qualities: number[];
  maxDpr: number;
  requireSignature: boolean;
  keys: Record<string, string>;
  uploadTokens: Record<string, string>;
  allowedReferers: string[];
  allowEmptyReferer: boolean;
  ttlClass: 'normal' | 'short';
  fallback: 'none' | 'generated';
  gravity: Gravity;
}

/** Defaults, each with why. */
export const TENANT_DEFAULTS: Omit<Tenant, 'name'> = {
  // Dense at avatar sizes, sparse above: 12 widths keep the variant set per image small.
  breakpoints: [16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024],
  // AVIF is opt-in (add 'avif' here): its encode costs 1–3× WebP's (README, "Formats").
  formats: ['webp', 'jpeg', 'png'],
  // fmt=auto: AVIF when allowed and accepted, else WebP, else JPEG (or PNG for alpha).
  autoFormats: ['avif', 'webp'],
  fits: ['cover', 'contain', 'inside'],
  // The most common avatar slot on profile pages.
  defaultSize: 256,
  // q75 is visually clean for WebP/JPEG avatars at a fraction of q90's bytes.
  defaultQuality: 75,
  // Requested q snaps to the nearest of these: arbitrary q values would multiply variants.
  qualities: [40, 50, 60, 75, 85, 95],
  // Phones top out at 3x; beyond that the pixels are invisible and cost bytes.
  maxDpr: 3,
  requireSignature: false,
  keys: {},
  // None: only admin tokens may upload to this tenant.
  uploadTokens: {},
  // Empty list: any page may embed the images.
  allowedReferers: [],
  allowEmptyReferer: true,
  ttlClass: 'normal',
  fallback: 'none',
  // Centre: existing URLs keep their bytes; a tenant opts into face-aware crops.
  gravity: 'center',
};

const HOST_RE = /^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?$/;

// Every key TenantInput knows. Anything else is a typo, and a typo in a security setting
// (`requireSignatures: true`) must not silently leave a tenant open.
const KNOWN_KEYS = new Set<string>(Object.keys(TENANT_DEFAULTS));

const isInt = (n: unknown, min: number, max: number): n is number => typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max;

/** Normalizes one tenant; pushes every problem found to `problems` (so all are reported at once). */
export function normalizeTenant(name: string, input: TenantInput, problems: string[]): Tenant {
  const p = (msg: string) => problems.push(`tenant '${name}': ${msg}`);
  if (!TENANT_RE.test(name)) p('name must match [a-z0-9][a-z0-9-]{0,31}');
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    p('must be an object');
    input = {};
  }
  for (const key of Object.keys(input)) if (!KNOWN_KEYS.has(key)) p(`unknown setting '${key}' (known: ${[...KNOWN_KEYS].join(', ')})`);
  const t: Tenant = { name, ...TENANT_DEFAULTS, ...stripUndefined(input) } as Tenant;

  if (!Array.isArray(t.breakpoints) || t.breakpoints.length === 0 || !t.breakpoints.every((b) => isInt(b, 1, MAX_VARIANT_SIDE))) {
    p(`breakpoints must be a non-empty list of integers 1..${MAX_VARIANT_SIDE}`);
  } else {
    t.breakpoints = [...new Set(t.breakpoints)].sort((a, b) => a - b);
  }
  if (!Array.isArray(t.formats) || t.formats.length === 0 || !t.formats.every((f) => FORMATS.includes(f))) {
    p(`formats must be a non-empty subset of ${FORMATS.join(', ')}`);
  }
  if (!Array.isArray(t.autoFormats) || !t.autoFormats.every((f) => f === 'avif' || f === 'webp')) {
    p('autoFormats must be a list of avif, webp (in the order fmt=auto prefers them)');
  }
  if (!Array.isArray(t.fits) || t.fits.length === 0 || !t.fits.every((f) => FITS.includes(f))) {
    p(`fits must be a non-empty subset of ${FITS.join(', ')}`);
  }
  if (!isInt(t.defaultSize, 1, MAX_VARIANT_SIDE)) p(`defaultSize must be an integer 1..${MAX_VARIANT_SIDE}`);
  if (!Array.isArray(t.qualities) || t.qualities.length === 0 || !t.qualities.every((q) => isInt(q, 1, 100))) {
    p('qualities must be a non-empty list of integers 1..100');
  } else {
    t.qualities = [...new Set(t.qualities)].sort((a, b) => a - b);
  }
  if (!isInt(t.defaultQuality, 1, 100)) p('defaultQuality must be an integer 1..100');
  else if (Array.isArray(t.qualities) && !t.qualities.includes(t.defaultQuality)) p('defaultQuality must be one of qualities');
  if (typeof t.maxDpr !== 'number' || !(t.maxDpr >= 1 && t.maxDpr <= 4)) p('maxDpr must be a number 1..4');
  if (typeof t.requireSignature !== 'boolean') p('requireSignature must be true or false');
  if (typeof t.keys !== 'object' || t.keys === null || Array.isArray(t.keys)) {
    p('keys must be an object of key id → secret');
  } else {
    for (const [kid, secret] of Object.entries(t.keys)) {
      if (!SECRET_ID_RE.test(kid)) p(`key id '${kid}' must match [A-Za-z0-9_-]{1,32}`);
      if (typeof secret !== 'string' || secret.length < 16) p(`key '${kid}' must be a string of at least 16 characters`);
    }
    if (t.requireSignature && Object.keys(t.keys).length === 0) p('requireSignature is true but no keys are configured');
  }
  if (typeof t.uploadTokens !== 'object' || t.uploadTokens === null || Array.isArray(t.uploadTokens)) {
    p('uploadTokens must be an object of token id → secret');
  } else {
    for (const [id, secret] of Object.entries(t.uploadTokens)) {
      if (!SECRET_ID_RE.test(id)) p(`upload token id '${id}' must match [A-Za-z0-9_-]{1,32}`);
      // Same bar as admin tokens (128 bits as hex); the secret itself is never echoed.
      if (!isSecretShaped(secret, MIN_TOKEN_LENGTH)) p(`upload token '${id}' must be ${secretShapeText(MIN_TOKEN_LENGTH)}`);
    }
  }
  if (!Array.isArray(t.allowedReferers) || !t.allowedReferers.every((h) => typeof h === 'string' && HOST_RE.test(h))) {
    p('allowedReferers must be host names, optionally starting with "*." (e.g. "example.com", "*.example.com")');
  }
  if (typeof t.allowEmptyReferer !== 'boolean') p('allowEmptyReferer must be true or false');
  else if (!t.allowEmptyReferer && Array.isArray(t.allowedReferers) && t.allowedReferers.length === 0) {
    // Hotlink protection is off without an allowlist, so this would look like protection and be none.
    p('allowEmptyReferer: false needs a non-empty allowedReferers');
  }
  if (t.ttlClass !== 'normal' && t.ttlClass !== 'short') p("ttlClass must be 'normal' or 'short'");
  if (t.fallback !== 'none' && t.fallback !== 'generated') p("fallback must be 'none' or 'generated'");
  if (!GRAVITIES.includes(t.gravity)) p(`gravity must be one of ${GRAVITIES.join(', ')}`);
  return t;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
