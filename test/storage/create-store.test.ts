import { describe, expect, it } from 'vitest';
import type { ObjectStore } from '../../src/core/ports.js';
import { loadStorageConfig } from '../../src/storage/config.js';
import { createStore } from '../../src/storage/create-store.js';

const S3_ENV = { STORAGE: 's3', S3_ENDPOINT: 'https://acc.r2.cloudflarestorage.com', S3_BUCKET: 'hot', S3_ACCESS_KEY_ID: 'id-1', S3_SECRET_ACCESS_KEY: 'secret-1' };

describe('createStore', () => {
  it('hands STORAGE=fs to the host factory, and says so when the host has none', () => {
    const dirs: (string | undefined)[] = [];
    const fake = {} as ObjectStore;
    expect(createStore(loadStorageConfig({ DATA_DIR: '/d' }), { createFsStore: (d) => (dirs.push(d), fake) })).toBe(fake);
    expect(dirs).toEqual(['/d']);
    expect(() => createStore(loadStorageConfig({}))).toThrow(/STORAGE=s3 only/);
  });

  it('wires a secondary through its own fetch and fails over to it', async () => {
    const calls: string[] = [];
    const store = createStore(
      loadStorageConfig({
        ...S3_ENV,
        S3_SECONDARY_ENDPOINT: 'https://s3.us-east-1.amazonaws.com',
        S3_SECONDARY_BUCKET: 'archive',
        S3_SECONDARY_ACCESS_KEY_ID: 'id-2',
        S3_SECONDARY_SECRET_ACCESS_KEY: 'secret-2',
      }),
      {
        fetch: {
          primary: async (req) => (calls.push(`primary ${req.url}`), new Response('busy', { status: 503 })),
          secondary: async (req) => (calls.push(`secondary ${req.url}`), new Response(new Uint8Array([7]), { headers: { 'content-type': 'image/png' } })),
        },
      },
    );
    const got = await store.get('originals/acme/3f/u-42');
    expect(Array.from(got!.body)).toEqual([7]);
    expect(calls).toEqual(['primary https://acc.r2.cloudflarestorage.com/hot/originals/acme/3f/u-42', 'secondary https://archive.s3.us-east-1.amazonaws.com/originals/acme/3f/u-42']);
  });
});
