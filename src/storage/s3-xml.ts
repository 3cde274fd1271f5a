/**
 * The S3 XML documents the store reads (ListObjectsV2 and DeleteObjects results, error bodies), parsed
 * without a DOM: no XML parser exists on every host (Fastly has no DOMParser), and these
 * documents are flat, machine-written and small. Text is entity-decoded; CDATA is honoured.
 */

export interface ListObjectsV2Result {
  keys: string[];
  isTruncated: boolean;
  nextContinuationToken?: string;
}

export interface S3ErrorBody {
  code?: string;
  message?: string;
  requestId?: string;
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decodes the five predefined entities and numeric references; anything else is left as written. */
export function decodeXmlText(raw: string): string {
  // CDATA sections are literal; only the parts between them carry entities.
  return raw
    .split(/(<!\[CDATA\[[\s\S]*?\]\]>)/)
    .map((part) => (part.startsWith('<![CDATA[') ? part.slice(9, -3) : decodeEntities(part)))
    .join('');
}

function decodeEntities(s: string): string {
  return s.replace(/&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]+);/g, (whole, ref: string) => {
    if (ref[0] !== '#') return NAMED[ref] ?? whole;
    const cp = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    // Surrogates and out-of-range values are not characters: keep the text rather than invent one.
    return cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : whole;
  });
}

/** Inner text of every `<name>` element in `xml` (attributes allowed, `<name/>` gives ''). */
export function elementTexts(xml: string, name: string): string[] {
  const re = new RegExp(`<${name}(?:\\s[^>]*)?(?:/>|>([\\s\\S]*?)</${name}\\s*>)`, 'g');
  const out: string[] = [];
  for (const m of xml.matchAll(re)) out.push(m[1] ?? '');
  return out;
}

function firstText(xml: string, name: string): string | undefined {
  const t = elementTexts(xml, name)[0];
  return t === undefined ? undefined : decodeXmlText(t).trim();
}

export function parseListObjectsV2(xml: string): ListObjectsV2Result {
  if (!/<ListBucketResult[\s>]/.test(xml)) throw new Error('not a ListBucketResult document');
  // Keys are read raw (not trimmed): whitespace is a legal part of a key.
  const keys = elementTexts(xml, 'Contents').flatMap((c) => elementTexts(c, 'Key').slice(0, 1).map(decodeXmlText));
  const isTruncated = firstText(xml, 'IsTruncated') === 'true';
  const token = firstText(xml, 'NextContinuationToken');
  return token ? { keys, isTruncated, nextContinuationToken: token } : { keys, isTruncated };
}

/** Code, message and request id of an `<Error>` body; empty when the body is not one (HTML from a proxy, a HEAD). */
export function parseS3Error(xml: string): S3ErrorBody {
  const inner = elementTexts(xml, 'Error')[0];
  if (inner === undefined) return {};
  const out: S3ErrorBody = {};
  const code = firstText(inner, 'Code');
  const message = firstText(inner, 'Message');
  const requestId = firstText(inner, 'RequestId');
  if (code) out.code = code;
  if (message) out.message = message;
  if (requestId) out.requestId = requestId;
  return out;
}

export interface DeleteObjectsResult {
  deleted: string[];
  errors: { key: string; code: string; message?: string }[];
}

/** A DeleteObjects answer: the keys deleted and, per key, the ones S3 could not delete. */
export function parseDeleteResult(xml: string): DeleteObjectsResult {
  if (!/<DeleteResult[\s>/]/.test(xml)) throw new Error('not a DeleteResult document');
  const deleted = elementTexts(xml, 'Deleted').flatMap((d) => elementTexts(d, 'Key').slice(0, 1).map(decodeXmlText));
  const errors = elementTexts(xml, 'Error').map((e) => {
    const message = firstText(e, 'Message');
    return { key: decodeXmlText(elementTexts(e, 'Key')[0] ?? ''), code: firstText(e, 'Code') ?? 'Unknown', ...(message ? { message } : {}) };
  });
  return { deleted, errors };
}

/** Escapes text for an XML element body. */
export function escapeXmlText(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`);
}
