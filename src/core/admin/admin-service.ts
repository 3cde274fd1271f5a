import { HttpError } from '../errors.js';
import { replicasOf } from '../replicas.js';
import { tombstoneKey } from '../storage-keys.js';
import { imageKey } from '../surrogate-keys.js';
import type { AdminDeps } from './admin-deps.js';
import { MAX_ERASE_IDS } from './admin-input.js';
import type { AuditQueryInput, EraseInput, PurgeInput, RestoreInput, TakedownInput } from './admin-input.js';
import { type AuditDraft, type AuditEntry, type AuditPage, appendAudit, listAudit, readAudit } from './audit-log.js';
import { errorText, mapBounded, withRetries } from '../bounded.js';
import { findImageIds } from './find-images.js';
import { purgeKeys } from '../purge/purge-keys.js';
import { describeFailure, type RemovalRequest, type RemovalResult, removeImages, type StepFailure } from './remove-images.js';
import { readTombstone, type Tombstone } from '../tombstone.js';
import { storageLeftovers } from './verify-gone.js';

/** What an operation did: `ok` only when all of it was done (and written to the audit log). */
export interface AdminOutcome {
  ok: boolean;
  /** Why it is not ok: INCOMPLETE (some step failed) or AUDIT_WRITE_FAILED. */
  code?: 'INCOMPLETE' | 'AUDIT_WRITE_FAILED';
  /** INCOMPLETE: what was left undone, in one line naming the step and the store. */
  message?: string;
  /** A split takedown or erasure whose part is done: answered 202, with `next` to send back. */
  more?: boolean;
  body: Record<string, unknown>;
}

export interface AdminService {
  purge(input: PurgeInput, who: string): Promise<AdminOutcome>;
  takedown(input: TakedownInput, who: string): Promise<AdminOutcome>;
  erase(input: EraseInput, who: string): Promise<AdminOutcome>;
  restore(input: RestoreInput, who: string): Promise<AdminOutcome>;
  audit(query: AuditQueryInput): Promise<AuditPage>;
  auditEntry(id: string): Promise<AuditEntry>;
}

/**
 * The admin operations, platform-neutral: every host wires the same service to its own
 * store, purger and request path. Every operation ends with one audit entry, failures included.
 */
export function createAdminService(deps: AdminDeps): AdminService {
  const now = () => new Date((deps.clock ?? Date).now());

  async function finish(draft: AuditDraft, body: Record<string, unknown>): Promise<AdminOutcome> {
    const written = await withRetries(() => appendAudit(deps.store, draft, now()), deps.retry, deps.sleep);
    if (!written.ok) {
      // The operation happened; only its record is missing. Every operation is idempotent, so retrying it records it.
      return { ok: false, code: 'AUDIT_WRITE_FAILED', body: { ...body, ok: false, audit: { error: written.error } } };
    }
    if (draft.ok) return { ok: true, body: { ...body, ok: true, audit: { id: written.value.id } } };
    if (draft.inProgress && !draft.incomplete) {
      const next = typeof body.next === 'function' ? (body.next as (auditId: string) => unknown)(written.value.id) : body.next;
      return { ok: false, more: true, body: { ...body, ok: false, more: true, done: draft.inProgress.done, next, audit: { id: written.value.id } } };
    }
    return { ok: false, code: 'INCOMPLETE', ...(draft.incomplete ? { message: draft.incomplete } : {}), body: { ...body, ok: false, audit: { id: written.value.id } } };
  }

  /** Reads of the audit log: a store failure is the audit log's, not "the image origin". */
  async function readingAudit<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (err) {
      if (err instanceof HttpError) throw err;
      throw new HttpError(503, 'AUDIT_UNAVAILABLE', `the audit log could not be read from the store: ${errorText(err)}`);
    }
  }

  async function remove(req: RemovalRequest): Promise<{ result: RemovalResult | null; errors: string[] }> {
    try {
      return { result: await removeImages(deps, req), errors: [] };
    } catch (err) {
      return { result: null, errors: [errorText(err)] };
    }
  }

  /** The stage this call does: all of it, or on a host that splits removals, `remove` first and `verify` when continued. */
  function stageOf(cont: { stage: 'verify' } | undefined): RemovalRequest['stage'] {
    return deps.splitRemoval ? (cont ? 'verify' : 'remove') : undefined;
  }

  /** What a `remove` stage did, for the answer and the audit entry. */
  function doneSteps(): string[] {
    const names = replicasOf(deps.store).map((r) => r.name);
    return [...names.map((n) => `tombstone on ${n}`), ...names.map((n) => `delete on ${n}`), 'purge'];
  }

  function removalDraft(req: RemovalRequest, target: AuditDraft['target'], result: RemovalResult | null, errors: string[], continues?: string): AuditDraft {
    const images = result?.images ?? [];
    const incomplete = result?.incomplete ?? (errors[0] ? `${req.action}: ${errors[0]}` : undefined);
    // A `remove` stage (or a sweep that needs a recheck) that went through is not a done
    // takedown: the audit says so (never ok).
    const partial = (req.stage === 'remove' || result?.recheck === true) && (result?.ok ?? false);
    const done = req.stage === 'remove' ? doneSteps() : [`sweep: deleted ${images.reduce((n, i) => n + i.deleted.length, 0)} object(s) written since the first call, purge`];
    return {
      who: req.who,
      action: req.action,
      ok: (result?.ok ?? false) && !partial,
      ...(partial ? { inProgress: { done, next: 'verify' as const } } : {}),
      ...(continues ? { continues } : {}),
      ...(incomplete && !(result?.ok ?? false) ? { incomplete } : {}),
      target,
      keys: [...new Set(result?.purge.map((p) => p.key) ?? [])],
      reason: req.reason,
      ticket: req.ticket,
      purge: result?.purge ?? [],
      deleted: images.flatMap((i) => i.deleted),
      // One image's verification stands for a takedown; an erasure keeps one per image.
      verification: images.length === 1 ? images[0]!.verification : undefined,
      errors: [...errors, ...images.flatMap((i) => i.errors.map((e) => `${i.id}: ${e}`))],
      ...(images.length > 1 ? { images: images.map(({ id, ok, verification }) => ({ id, ok, verification })) } : {}),
    };
  }

  return {
    async purge(input, who) {
      const results = await purgeKeys(deps.purger, input.keys, { soft: input.soft, retry: deps.retry, sleep: deps.sleep });
      const failed = results.filter((r) => !r.ok);
      const draft: AuditDraft = {
        who,
        action: 'purge',
        ok: failed.length === 0,
        ...(failed[0] ? { incomplete: `purge ${failed[0].key}: ${failed[0].error ?? 'failed'}${failed.length > 1 ? ` (and ${failed.length - 1} more keys)` : ''}` } : {}),
        keys: results.map((r) => r.key),
        reason: input.reason,
        ticket: input.ticket,
        purge: results,
        deleted: [],
        errors: failed.map((r) => `${r.key}: ${r.error ?? 'failed'}`),
      };
      return finish(draft, { soft: input.soft, purged: results.length - failed.length, failed: failed.length, results });
    },

    async takedown(input, who) {
      const stage = stageOf(input.continue);
      const req: RemovalRequest = {
        tenant: input.tenant,
        ids: [input.id],
        reason: input.reason,
        ticket: input.ticket,
        action: 'takedown',
        who,
        ...(stage ? { stage } : {}),
        ...(stage === 'verify' ? { variants: input.continue!.variants } : {}),
      };
      const { result, errors } = await remove(req);
      const draft = removalDraft(req, { tenant: input.tenant, ids: [input.id] }, result, errors, input.continue?.started);
      const img = result?.images[0];
      return finish(draft, {
        tenant: input.tenant,
        id: input.id,
        ...(draft.continues ? { continues: draft.continues } : {}),
        // A split takedown's first call: what to send back (with tenant, reason and ticket) to finish it.
        ...(draft.inProgress ? { next: (auditId: string) => ({ id: input.id, continue: { stage: 'verify', variants: img?.variants ?? [], started: input.continue?.started ?? auditId } }) } : {}),
        tombstone: img?.tombstone ?? null,
        deleted: img?.deleted ?? [],
        purge: result?.purge ?? [],
        verification: img?.verification ?? null,
        errors: draft.errors,
      });
    },

    async erase(input, who) {
      let found = { ids: input.ids ?? [], more: false };
      let listError: string | undefined;
      if (!input.ids) {
        try {
          found = await findImageIds(
            replicasOf(deps.store).map((r) => r.store),
            input.tenant,
            input.prefix ?? '',
            MAX_ERASE_IDS,
          );
        } catch (err) {
          listError = `list: ${errorText(err)}`;
        }
      }
      // A host that may only make so many requests per call (Fastly) works on the first few; the caller sends the rest again.
      const ids = deps.maxImagesPerCall !== undefined ? found.ids.slice(0, Math.max(1, deps.maxImagesPerCall)) : found.ids;
      const remaining = found.ids.slice(ids.length);
      const stage = stageOf(input.continue);
      if (stage && !input.ids && !listError && ids.length) {
        // A split erasure by prefix: the listing is this call's part; the ids are erased by id (each in its own calls).
        const draft: AuditDraft = {
          who,
          action: 'erase',
          ok: false,
          inProgress: { done: ['list'], next: 'verify' },
          target: { tenant: input.tenant, prefix: input.prefix, ids: [] },
          keys: [],
          reason: input.reason,
          ticket: input.ticket,
          purge: [],
          deleted: [],
          errors: [],
        };
        return finish(draft, { tenant: input.tenant, erased: 0, found: found.ids.length, images: [], purge: [], errors: [], next: { ids } });
      }
      const req: RemovalRequest = {
        tenant: input.tenant,
        ids,
        action: 'erase',
        reason: input.reason,
        ticket: input.ticket,
        who,
        wholeTenant: input.prefix === '',
        ...(stage && ids.length ? { stage } : {}),
        ...(stage === 'verify' ? { variants: input.continue!.variants } : {}),
      };
      const { result, errors } = listError ? { result: null, errors: [listError] } : ids.length || req.wholeTenant ? await remove(req) : { result: { ok: true, images: [], purge: [] }, errors: [] };
      const target = input.ids ? { tenant: input.tenant, ids } : { tenant: input.tenant, prefix: input.prefix, ids };
      const draft = removalDraft(req, target, result, errors, input.continue?.started);
      const img = result?.images[0];
      return finish(draft, {
        tenant: input.tenant,
        // Erased means verified gone: a `remove` stage erased nothing yet.
        erased: draft.inProgress ? 0 : (result?.images.filter((i) => i.ok).length ?? 0),
        ...(draft.continues ? { continues: draft.continues } : {}),
        ...(draft.inProgress ? { next: (auditId: string) => ({ ids, continue: { stage: 'verify', variants: img?.variants ?? [], started: input.continue?.started ?? auditId } }) } : {}),
        // More ids match the prefix than one call handles (or, with ids, some were left for the next call): call again until `more` is false.
        more: found.more || remaining.length > 0,
        ...(input.ids && remaining.length ? { remaining } : {}),
        images: (result?.images ?? []).map((i) => ({ id: i.id, ok: i.ok, deleted: i.deleted.length, verification: i.verification, errors: i.errors })),
        purge: result?.purge ?? [],
        errors: draft.errors,
      });
    },

    async restore(input, who) {
      const stores = replicasOf(deps.store);
      const key = tombstoneKey(input.tenant, input.id);
      const failures: StepFailure[] = [];
      const deleted: string[] = [];
      const reads = await Promise.all(stores.map((r) => withRetries(() => readTombstone(r.store, input.tenant, input.id), deps.retry, deps.sleep)));
      let previous: Tombstone | null = null;
      reads.forEach((t, i) => {
        if (t.ok) previous ??= t.value;
        else failures.push({ step: 'read', store: stores[i]!.name, key, error: t.error });
      });
      if (!previous && failures.length === 0) throw new HttpError(404, 'NOT_TAKEN_DOWN', `${input.tenant}/${input.id} has no takedown to reverse`);

      // Anything of the image found next to its tombstone was written after the takedown (an
      // upload or write-back that raced it): it goes before the tombstone does, so a restore
      // never serves bytes the takedown meant to delete. Until it is gone, the tombstones stay.
      await Promise.all(
        stores.map(async (r) => {
          const left = await withRetries(() => storageLeftovers(r.store, input.tenant, input.id), deps.retry, deps.sleep);
          if (!left.ok) return void failures.push({ step: 'list', store: r.name, error: left.error });
          await mapBounded(left.value.remaining, 4, async (k) => {
            const d = await withRetries(() => r.store.delete(k), deps.retry, deps.sleep);
            if (d.ok) deleted.push(k);
            else failures.push({ step: 'delete', store: r.name, key: k, error: d.error });
          });
        }),
      );
      let purge: Awaited<ReturnType<typeof purgeKeys>> = [];
      if (failures.length === 0) {
        // The secondary's first: a restore cut short leaves the primary (what reads ask first) still taken down.
        for (const r of [...stores].reverse()) {
          const d = await withRetries(() => r.store.delete(key), deps.retry, deps.sleep);
          if (d.ok) {
            if (!deleted.includes(key)) deleted.push(key);
          } else {
            failures.push({ step: 'delete', store: r.name, key, error: d.error });
            break;
          }
        }
        // Cached 410s would otherwise hide a fresh upload for up to goneTtl.
        if (failures.length === 0) purge = await purgeKeys(deps.purger, [imageKey(input.tenant, input.id)], { soft: false, retry: deps.retry, sleep: deps.sleep });
      }
      for (const p of purge) if (!p.ok) failures.push({ step: 'purge', key: p.key, error: p.error ?? 'failed' });
      const errors = failures.map(describeFailure);
      const draft: AuditDraft = {
        who,
        action: 'restore',
        ok: errors.length === 0,
        ...(errors.length ? { incomplete: errors[0]! } : {}),
        target: { tenant: input.tenant, ids: [input.id] },
        keys: purge.map((p) => p.key),
        reason: input.reason,
        ticket: input.ticket,
        purge,
        deleted,
        errors,
      };
      return finish(draft, {
        tenant: input.tenant,
        id: input.id,
        previous,
        deleted,
        purge,
        errors,
        // Nothing is brought back: the original was deleted, so the image returns only with a fresh upload.
        next: 'upload the original again to serve this id',
      });
    },

    audit: (q) => readingAudit(() => listAudit(deps.store, q)),

    async auditEntry(id) {
      const entry = await readingAudit(() => readAudit(deps.store, id));
      if (!entry) throw new HttpError(404, 'NOT_FOUND', 'no audit entry with that id');
      return entry;
    },
  };
}
