import { HttpError } from '../errors.js';
import { ID_RE, isValidId, TENANT_RE } from '../request/parse-path.js';
import { isAuditId } from '../storage-keys.js';
import { isSurrogateKey } from '../surrogate-keys.js';
import { parseVariantName } from '../variant.js';
import { MAX_AUDIT_RANGE_DAYS } from './audit-log.js';

/**
 * Validation of admin request bodies: strict (unknown fields are refused, so a typo such as
 * "ticekt" cannot silently drop the ticket from the audit trail), every problem a 400 with a
 * stable code and the field named.
 */

/** Purges are cheap; 10 000 keys is 40 Fastly batch calls. */
export const MAX_PURGE_KEYS = 10_000;
/** Each id costs a dozen store calls and ~80 verification requests; bigger sets are sent in several calls. */
export const MAX_ERASE_IDS = 500;
const MAX_REASON = 2_000;
const MAX_TICKET = 200;
const MAX_AUDIT_LIMIT = 200;
const DEFAULT_AUDIT_LIMIT = 50;
const DEFAULT_AUDIT_DAYS = 30;

export interface PurgeInput {
  keys: string[];
  soft: boolean;
  reason?: string;
  ticket?: string;
}
/** Stored variants an image has at most (the CLI echoes them back in `continue`). */
const MAX_CONTINUE_VARIANTS = 1_000;

/**
 * The second call of a takedown or erasure split over several calls (Fastly's backend request
 * limit): what the first answered as `next.continue`, sent back unchanged.
 */
export interface ContinueInput {
  stage: 'verify';
  /** The stored variant names the first call listed before deleting them (their URLs are verified). */
  variants: string[];
  /** The audit entry of the first call, which the final entry refers to. */
  started: string;
}
export interface TakedownInput {
  tenant: string;
  id: string;
  reason: string;
  ticket: string;
  continue?: ContinueInput;
}
export interface EraseInput {
  tenant: string;
  ids?: string[];
  prefix?: string;
  reason: string;
  ticket: string;
  /** Only with exactly one id. */
  continue?: ContinueInput;
}
export interface RestoreInput {
  tenant: string;
  id: string;
  reason: string;
  ticket?: string;
}

const invalid = (field: string, what: string) => new HttpError(400, 'INVALID_FIELD', `'${field}' ${what}`);

function object(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'INVALID_BODY', 'the body must be a JSON object');
  for (const k of Object.keys(body)) if (!allowed.includes(k)) throw invalid(k, `is not a known field (known: ${allowed.join(', ')})`);
  return body as Record<string, unknown>;
}

function text(o: Record<string, unknown>, field: string, max: number, required: true): string;
function text(o: Record<string, unknown>, field: string, max: number, required: false): string | undefined;
function text(o: Record<string, unknown>, field: string, max: number, required: boolean): string | undefined {
  const v = o[field];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw invalid(field, 'is required and must be a non-empty string');
  if (v.length > max) throw invalid(field, `must be at most ${max} characters`);
  // Control characters would let a reason forge lines in anything that prints the log.
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(v)) throw invalid(field, 'must not contain control characters');
  return v.trim();
}

function tenantOf(o: Record<string, unknown>): string {
  const t = o.tenant;
  if (typeof t !== 'string' || !TENANT_RE.test(t)) throw invalid('tenant', 'must be 1-32 characters of a-z, 0-9 and "-"');
  return t;
}

function idOf(v: unknown, field: string): string {
  if (typeof v !== 'string' || !isValidId(v)) throw invalid(field, 'must be an image id: 1-128 characters of A-Z, a-z, 0-9, ".", "_", "-"');
  return v;
}

function list(o: Record<string, unknown>, field: string, max: number): unknown[] {
  const v = o[field];
  if (!Array.isArray(v) || v.length === 0) throw invalid(field, 'must be a non-empty array');
  if (v.length > max) throw invalid(field, `must have at most ${max} entries (send several requests)`);
  return v;
}

export function parsePurgeInput(body: unknown): PurgeInput {
  const o = object(body, ['keys', 'soft', 'reason', 'ticket']);
  const keys = list(o, 'keys', MAX_PURGE_KEYS).map((k, i) => {
    if (typeof k !== 'string' || !isSurrogateKey(k)) throw invalid(`keys[${i}]`, 'must be a surrogate key: t:{tenant}, i:{tenant}/{id} or v:{tenant}/{id}/{variant}');
    return k;
  });
  if (o.soft !== undefined && typeof o.soft !== 'boolean') throw invalid('soft', 'must be true or false');
  return { keys, soft: o.soft === true, reason: text(o, 'reason', MAX_REASON, false), ticket: text(o, 'ticket', MAX_TICKET, false) };
}

function continueOf(o: Record<string, unknown>): ContinueInput | undefined {
  if (o.continue === undefined) return undefined;
  const c = object(o.continue, ['stage', 'variants', 'started']);
  if (c.stage !== 'verify') throw invalid('continue.stage', "must be 'verify' (send back the `next` of the previous answer)");
  if (!Array.isArray(c.variants) || c.variants.length > MAX_CONTINUE_VARIANTS) throw invalid('continue.variants', `must be an array of at most ${MAX_CONTINUE_VARIANTS} variant names`);
  const variants = c.variants.map((v, i) => {
    if (typeof v !== 'string' || parseVariantName(v) === undefined) throw invalid(`continue.variants[${i}]`, 'must be a stored variant name such as 256x256-cover-q75.webp');
    return v;
  });
  if (typeof c.started !== 'string' || !isAuditId(c.started)) throw invalid('continue.started', 'must be the audit id the previous call answered');
  return { stage: 'verify', variants, started: c.started };
}

export function parseTakedownInput(body: unknown): TakedownInput {
  const o = object(body, ['tenant', 'id', 'reason', 'ticket', 'continue']);
  const cont = continueOf(o);
  return { tenant: tenantOf(o), id: idOf(o.id, 'id'), reason: text(o, 'reason', MAX_REASON, true), ticket: text(o, 'ticket', MAX_TICKET, true), ...(cont ? { continue: cont } : {}) };
}

/** `ids` (a list) or `prefix` (ids starting with it; "" is the whole tenant and needs `confirm: "<tenant>"`). */
export function parseEraseInput(body: unknown): EraseInput {
  const o = object(body, ['tenant', 'ids', 'prefix', 'confirm', 'reason', 'ticket', 'continue']);
  const tenant = tenantOf(o);
  const base = { tenant, reason: text(o, 'reason', MAX_REASON, true), ticket: text(o, 'ticket', MAX_TICKET, true) };
  if ((o.ids === undefined) === (o.prefix === undefined)) throw invalid('ids', "or 'prefix' is required (exactly one of them)");
  const cont = continueOf(o);
  if (o.ids !== undefined) {
    const ids = [...new Set(list(o, 'ids', MAX_ERASE_IDS).map((v, i) => idOf(v, `ids[${i}]`)))];
    if (cont && ids.length !== 1) throw invalid('continue', 'goes with exactly one id (send back the `next` of the previous answer)');
    return { ...base, ids, ...(cont ? { continue: cont } : {}) };
  }
  if (cont) throw invalid('continue', "goes with 'ids', not 'prefix'");
  const prefix = o.prefix;
  if (typeof prefix !== 'string' || (prefix !== '' && !ID_RE.test(prefix))) {
    throw invalid('prefix', 'must be the start of an image id, or "" for the whole tenant');
  }
  if (prefix === '' && o.confirm !== tenant) {
    throw new HttpError(400, 'CONFIRM_REQUIRED', `erasing the whole tenant needs "confirm": "${tenant}"`);
  }
  return { ...base, prefix };
}

export function parseRestoreInput(body: unknown): RestoreInput {
  const o = object(body, ['tenant', 'id', 'reason', 'ticket']);
  return { tenant: tenantOf(o), id: idOf(o.id, 'id'), reason: text(o, 'reason', MAX_REASON, true), ticket: text(o, 'ticket', MAX_TICKET, false) };
}

/** `YYYY-MM-DD` (a whole UTC day: from its start, to its end) or a full ISO 8601 timestamp. */
function parseDate(field: string, raw: string, endOfDay: boolean): Date {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(raw);
  const d = new Date(day ? `${raw}T${endOfDay ? '23:59:59.999' : '00:00:00.000'}Z` : raw);
  if (Number.isNaN(d.getTime()) || !(day || /^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/.test(raw))) {
    throw invalid(field, 'must be a date (YYYY-MM-DD) or an ISO 8601 timestamp');
  }
  return d;
}

export interface AuditQueryInput {
  from: Date;
  to: Date;
  limit: number;
  cursor?: string;
}

export function parseAuditQuery(params: URLSearchParams, now: number): AuditQueryInput {
  for (const k of params.keys()) if (!['from', 'to', 'limit', 'cursor'].includes(k)) throw invalid(k, 'is not a known parameter (known: from, to, limit, cursor)');
  const to = params.get('to') ? parseDate('to', params.get('to')!, true) : new Date(now);
  const from = params.get('from') ? parseDate('from', params.get('from')!, false) : new Date(to.getTime() - DEFAULT_AUDIT_DAYS * 86_400_000);
  if (from > to) throw invalid('from', "must not be after 'to'");
  if (to.getTime() - from.getTime() > MAX_AUDIT_RANGE_DAYS * 86_400_000) throw invalid('from', `must be at most ${MAX_AUDIT_RANGE_DAYS} days before 'to'`);
  let limit = DEFAULT_AUDIT_LIMIT;
  const rawLimit = params.get('limit');
  if (rawLimit !== null) {
    limit = /^\d{1,4}$/.test(rawLimit) ? Number(rawLimit) : NaN;
    if (!(limit >= 1 && limit <= MAX_AUDIT_LIMIT)) throw invalid('limit', `must be an integer from 1 to ${MAX_AUDIT_LIMIT}`);
  }
  const cursor = params.get('cursor') ?? undefined;
  return { from, to, limit, cursor };
}
