import { HttpError } from '../errors.js';
import type { ObjectStore } from '../ports.js';
import { auditDayPrefix, auditKey, compactTimestamp, isAuditId } from '../storage-keys.js';
import { mapBounded } from '../bounded.js';
import type { PurgeReport } from '../purge/purge-keys.js';
import type { VerificationReport } from './verify-gone.js';
import { listAllKeys } from '../list-keys.js';

export type AuditAction = 'purge' | 'takedown' | 'erase' | 'restore';

/** One audit entry: one JSON object in the store, never rewritten. */
export interface AuditEntry {
  /** `{timestamp}-{random}`; also the object name, so entries sort by time. */
  id: string;
  /** ISO 8601. */
  when: string;
  /** The admin token id (never the token). */
  who: string;
  action: AuditAction;
  /** Whether everything asked for was done and verified. */
  ok: boolean;
  /** Not ok: what was left undone, in one line naming the step and the store (repeat the operation to finish it). */
  incomplete?: string;
  target?: { tenant: string; ids?: string[]; prefix?: string };
  /** Surrogate keys purged. */
  keys: string[];
  reason?: string;
  ticket?: string;
  purge: PurgeReport[];
  /** Object keys deleted from the store. */
  deleted: string[];
  /** Takedown: the verification of the one image. */
  verification?: VerificationReport;
  /** Erasure of several images: the outcome and verification of each. */
  images?: { id: string; ok: boolean; verification?: VerificationReport }[];
  errors: string[];
  /**
   * A takedown or erasure split over several calls: this call's part is done and the operation
   * continues in the next call (`ok` is false until the entry of the last call says otherwise).
   */
  inProgress?: { done: string[]; next: 'verify' };
  /** The last call of a split operation: the audit id of its first call's entry. */
  continues?: string;
}

export type AuditDraft = Omit<AuditEntry, 'id' | 'when'>;

let sequence = 0;

/**
 * A per-process sequence then random bytes: entries written in the same millisecond by this
 * process still sort in write order, and two processes never pick the same name.
 */
function uniqueSuffix(): string {
  sequence = (sequence + 1) % 0x10000;
  const b = crypto.getRandomValues(new Uint8Array(6));
  return sequence.toString(16).padStart(4, '0') + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Appends an entry (a new object; no read-modify-write, so concurrent writers cannot lose one). */
export async function appendAudit(store: ObjectStore, draft: AuditDraft, now: Date): Promise<AuditEntry> {
  const id = `${compactTimestamp(now)}-${uniqueSuffix()}`;
  const entry: AuditEntry = { id, when: now.toISOString(), ...draft };
  await store.put(auditKey(id), new TextEncoder().encode(JSON.stringify(entry)), { contentType: 'application/json' });
  return entry;
}

export async function readAudit(store: ObjectStore, id: string): Promise<AuditEntry | null> {
  if (!isAuditId(id)) return null;
  const obj = await store.get(auditKey(id));
  return obj ? (JSON.parse(new TextDecoder().decode(obj.body)) as AuditEntry) : null;
}

export interface AuditQuery {
  from: Date;
  to: Date;
  limit: number;
  /** The id of the last entry of the previous page. */
  cursor?: string;
}

export interface AuditPage {
  entries: AuditEntry[];
  /** Pass as `cursor` for the next (older) page; absent when this page was not full. */
  cursor?: string;
}

const DAY_MS = 86_400_000;
/** Listing is one call per day of the range: a year bounds one page at ~366 list calls. */
export const MAX_AUDIT_RANGE_DAYS = 366;

/** Entries with from <= when <= to, newest first, `limit` per page. */
export async function listAudit(store: ObjectStore, q: AuditQuery): Promise<AuditPage> {
  if (q.cursor !== undefined && !isAuditId(q.cursor)) throw new HttpError(400, 'INVALID_FIELD', "'cursor' is not a cursor returned by this API");
  const fromTs = compactTimestamp(q.from);
  const toTs = compactTimestamp(q.to);
  const startDay = Math.floor(q.to.getTime() / DAY_MS);
  const endDay = Math.floor(q.from.getTime() / DAY_MS);
  const ids: string[] = [];
  for (let day = startDay; day >= endDay && ids.length < q.limit; day--) {
    const prefix = auditDayPrefix(new Date(day * DAY_MS));
    // Cursor ids embed their day: skip whole days newer than the cursor without listing them.
    if (q.cursor && prefix > auditKey(q.cursor)) continue;
    const dayIds = (await listAllKeys(store, prefix))
      .map((k) => k.slice(prefix.length).replace(/\.json$/, ''))
      .filter((id) => isAuditId(id))
      .sort()
      .reverse();
    for (const id of dayIds) {
      const ts = id.slice(0, id.indexOf('-'));
      if (ts > toTs || ts < fromTs) continue;
      if (q.cursor && id >= q.cursor) continue;
      ids.push(id);
      if (ids.length === q.limit) break;
    }
  }
  const entries = (await mapBounded(ids, 8, (id) => readAudit(store, id))).filter((e): e is AuditEntry => e !== null);
  return ids.length === q.limit ? { entries, cursor: ids[ids.length - 1] } : { entries };
}
