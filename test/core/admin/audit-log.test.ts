import { describe, expect, it } from 'vitest';
import { parseAuditQuery } from '../../../src/core/admin/admin-input.js';
import { appendAudit, listAudit, readAudit, type AuditDraft } from '../../../src/core/admin/audit-log.js';
import { auditKey } from '../../../src/core/storage-keys.js';
import { createMemoryStore } from '../../support/memory-store.js';

const draft = (n: number): AuditDraft => ({ who: 'admin-1', action: 'purge', ok: true, keys: [`t:t${n}`], purge: [], deleted: [], errors: [] });
const at = (iso: string) => new Date(iso);

async function seeded() {
  const m = createMemoryStore();
  const times = ['2024-03-01T10:00:00Z', '2024-03-01T12:00:00Z', '2024-03-02T08:00:00Z', '2024-03-04T23:59:59.999Z', '2024-03-05T00:00:00Z'];
  const entries = [];
  for (const [i, t] of times.entries()) entries.push(await appendAudit(m.store, draft(i), at(t)));
  return { ...m, entries };
}

describe('audit log', () => {
  it('stores one object per entry under audit/{yyyy}/{mm}/{dd}/{timestamp}-{random}.json', async () => {
    const { keys, entries } = await seeded();
    expect(keys('audit/')).toHaveLength(5);
    expect(keys('audit/2024/03/01/')).toHaveLength(2);
    expect(entries[0]!.id).toMatch(/^20240301T100000000Z-[0-9a-f]{16}$/);
    expect(keys('audit/')[0]).toBe(`audit/2024/03/01/${entries[0]!.id}.json`);
    expect(auditKey(entries[0]!.id)).toBe(keys('audit/')[0]);
  });

  it('two entries in the same millisecond do not overwrite each other', async () => {
    const m = createMemoryStore();
    await Promise.all([1, 2, 3].map((n) => appendAudit(m.store, draft(n), at('2024-01-01T00:00:00Z'))));
    expect(m.keys('audit/')).toHaveLength(3);
  });

  it('lists a date range newest first, with paging by cursor across days', async () => {
    const { store, entries } = await seeded();
    const q = { from: at('2024-03-01T00:00:00Z'), to: at('2024-03-31T00:00:00Z') };
    const all = await listAudit(store, { ...q, limit: 50 });
    expect(all.entries.map((e) => e.id)).toEqual([...entries].reverse().map((e) => e.id));
    expect(all.cursor).toBeUndefined();

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await listAudit(store, { ...q, limit: 2, cursor });
      seen.push(...page.entries.map((e) => e.id));
      cursor = page.cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual(all.entries.map((e) => e.id));
  });

  it('honours from/to within a day', async () => {
    const { store, entries } = await seeded();
    const page = await listAudit(store, { from: at('2024-03-01T11:00:00Z'), to: at('2024-03-04T23:59:59.999Z'), limit: 10 });
    expect(page.entries.map((e) => e.id)).toEqual([entries[3]!.id, entries[2]!.id, entries[1]!.id]);
  });

  it('reads one entry by id and refuses ids that are not audit ids', async () => {
    const { store, entries } = await seeded();
    expect((await readAudit(store, entries[2]!.id))?.keys).toEqual(['t:t2']);
    expect(await readAudit(store, '../../originals/x')).toBeNull();
    await expect(listAudit(store, { from: at('2024-03-01T00:00:00Z'), to: at('2024-03-02T00:00:00Z'), limit: 1, cursor: 'nope' })).rejects.toMatchObject({ status: 400, code: 'INVALID_FIELD' });
  });
});

describe('parseAuditQuery', () => {
  const now = Date.parse('2024-06-15T12:00:00Z');
  it('defaults to the last 30 days, 50 entries', () => {
    const q = parseAuditQuery(new URLSearchParams(''), now);
    expect(q.to.toISOString()).toBe('2024-06-15T12:00:00.000Z');
    expect(q.from.toISOString()).toBe('2024-05-16T12:00:00.000Z');
    expect(q.limit).toBe(50);
  });
  it('takes whole days or timestamps', () => {
    const q = parseAuditQuery(new URLSearchParams('from=2024-01-01&to=2024-01-02&limit=5'), now);
    expect(q.from.toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect(q.to.toISOString()).toBe('2024-01-02T23:59:59.999Z');
    expect(parseAuditQuery(new URLSearchParams('from=2024-01-01T10:00:00Z&to=2024-01-01T11:00:00%2B01:00'), now).to.toISOString()).toBe('2024-01-01T10:00:00.000Z');
  });
  it.each([
    ['from=yesterday', 'from'],
    ['from=2024-02-01&to=2024-01-01', 'from'],
    ['from=2020-01-01&to=2024-01-01', 'from'],
    ['limit=0', 'limit'],
    ['limit=1000', 'limit'],
    ['limit=abc', 'limit'],
    ['sort=asc', 'sort'],
  ])('refuses %s', (qs, field) => {
    expect(() => parseAuditQuery(new URLSearchParams(qs), now)).toThrow(expect.objectContaining({ status: 400, code: 'INVALID_FIELD', message: expect.stringContaining(`'${field}'`) }));
  });
});
