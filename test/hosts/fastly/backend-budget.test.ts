import { describe, expect, it } from 'vitest';
import { createBackendBudget, EXECUTION_HEADER, imagesPerCall, reserveForAudit } from '../../../src/hosts/fastly/backend-budget.js';
import type { ObjectStore } from '../../../src/core/ports.js';
import { createMemoryStore } from '../../support/memory-store.js';

function recorder() {
  const sent: { url: string; backend: string; execution: string | null }[] = [];
  const fetch = async (req: Request, init: RequestInit) => {
    sent.push({ url: req.url, backend: String((init as { backend?: string }).backend), execution: req.headers.get(EXECUTION_HEADER) });
    return new Response('ok');
  };
  return { sent, fetch };
}

describe('backend request budget (per execution)', () => {
  it('passes requests up to the limit with the execution id, and refuses the next one unsent', async () => {
    const r = recorder();
    const budget = createBackendBudget(r.fetch, 3, 'exec-1');
    for (let i = 0; i < 3; i++) expect((await budget.fetch(new Request(`http://store/k${i}`), { backend: 'store' } as RequestInit)).status).toBe(200);
    await expect(budget.fetch(new Request('http://renderer/x'), { backend: 'renderer' } as RequestInit)).rejects.toThrow(/backend request limit reached: 3 per execution \(BACKEND_REQUEST_LIMIT\)/);
    expect(r.sent).toEqual([0, 1, 2].map((i) => ({ url: `http://store/k${i}`, backend: 'store', execution: 'exec-1' })));
    expect([budget.used(), budget.remaining()]).toEqual([3, 0]);
  });

  it('gives each execution its own id', () => {
    const r = recorder();
    expect(createBackendBudget(r.fetch, 10).executionId).not.toBe(createBackendBudget(r.fetch, 10).executionId);
  });

  it('keeps the last request(s) for the audit entry: other store calls are refused as StorageErrors', async () => {
    const r = recorder();
    const budget = createBackendBudget(r.fetch, 3, 'exec-2');
    const mem = createMemoryStore();
    // Each store call spends one backend request, as the S3 store does.
    const spend = (method: string, key: string) => budget.fetch(new Request(`http://store/avatars/${key}`, { method }), { backend: 'store' } as RequestInit);
    const counted: ObjectStore = { ...mem.store, put: async (k, b) => (await spend('PUT', k), mem.store.put(k, b)), head: async (k) => (await spend('HEAD', k), mem.store.head(k)) };
    const store = reserveForAudit(counted, budget, 1);
    await store.put('tombstones/demo/00/x', new Uint8Array([1]));
    await store.head('originals/demo/00/x');
    await expect(store.head('variants/demo/00/x/a')).rejects.toMatchObject({
      name: 'StorageError',
      code: 'BackendLimit',
      retryable: false,
      message: expect.stringMatching(/not sent: backend request limit reached/),
    });
    await store.put('audit/2026/12/02/e.json', new Uint8Array([1]));
    expect(mem.keys()).toEqual(['audit/2026/12/02/e.json', 'tombstones/demo/00/x']);
    expect(budget.used()).toBe(3);
  });

  it('keeps the reserve when store calls run concurrently (each one is counted when its request is sent, after signing)', async () => {
    const r = recorder();
    const budget = createBackendBudget(r.fetch, 3, 'exec-3');
    const mem = createMemoryStore();
    // Like the S3 store: some async work (signing) between the call and its request.
    const spend = async (method: string, key: string) => {
      await new Promise((res) => setTimeout(res, 1));
      await budget.fetch(new Request(`http://store/avatars/${key}`, { method }), { backend: 'store' } as RequestInit);
    };
    const counted: ObjectStore = { ...mem.store, put: async (k, b) => (await spend('PUT', k), mem.store.put(k, b)), head: async (k) => (await spend('HEAD', k), mem.store.head(k)) };
    const store = reserveForAudit(counted, budget, 1);
    const heads = await Promise.allSettled(['a', 'b', 'c', 'd'].map((k) => store.head(`originals/demo/00/${k}`)));
    expect(heads.filter((h) => h.status === 'fulfilled')).toHaveLength(2);
    await store.put('audit/2026/12/02/e.json', new Uint8Array([1]));
    expect(mem.keys()).toEqual(['audit/2026/12/02/e.json']);
    expect(budget.used()).toBe(3);
  });

  it('works on as many images per erase call as fit: 1 on the trial limit, 4 on 32 (one store), 2 on 32 with a secondary', () => {
    expect([imagesPerCall(2), imagesPerCall(10), imagesPerCall(19), imagesPerCall(32)]).toEqual([1, 1, 2, 4]);
    expect([imagesPerCall(10, 2), imagesPerCall(15, 2), imagesPerCall(32, 2)]).toEqual([1, 1, 2]);
  });
});
