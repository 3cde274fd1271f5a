import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createFsStore } from '../../src/storage/fs-store.js';
import { runStoreContract } from './store-contract.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'avatar-edge-fs-store-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

runStoreContract('fs-store (local directory)', () => createFsStore(dir));
