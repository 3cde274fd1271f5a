import { describe, expect, it } from 'vitest';
import { createServiceMetrics } from '../../src/core/metrics/service-metrics.js';
import type { ObjectStore } from '../../src/core/ports.js';
import { instrumentStore } from '../../src/observability/instrument.js';
import { createTextRegistry } from '../../src/observability/text-registry.js';
import { createMemoryStore } from '../support/memory-store.js';

describe('instrumentStore', () => {
  it('times each operation, counts failures, and keeps the store’s other capabilities', async () => {
    const metrics = createServiceMetrics(createTextRegistry());
    const inner = createMemoryStore().store as ObjectStore & { extra?: () => string };
    inner.extra = () => 'kept';
    const failing: ObjectStore = { ...inner, get: async () => Promise.reject(new Error('down')) };
    const primary = instrumentStore(inner, 'primary', metrics);
    const secondary = instrumentStore(failing, 'secondary', metrics);

    await primary.put('k', new Uint8Array([1, 2, 3]));
    expect((await primary.get('k'))?.body).toEqual(new Uint8Array([1, 2, 3]));
    expect(await primary.head('missing')).toBeNull();
    await expect(secondary.get('k')).rejects.toThrow('down');
    expect(primary.extra?.()).toBe('kept');

    const text = await metrics.registry.exposition();
    expect(text).toContain('avatar_store_operation_seconds_count{store="primary",op="put"} 1');
    expect(text).toContain('avatar_store_operation_seconds_count{store="primary",op="head"} 1');
    expect(text).toContain('avatar_store_operation_seconds_count{store="secondary",op="get"} 1');
    expect(text).toContain('avatar_store_errors_total{store="secondary",op="get"} 1');
    expect(text).not.toContain('avatar_store_errors_total{store="primary"');
  });
});
