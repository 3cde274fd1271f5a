import { describe } from 'vitest';
import { RUN_MINIO, startMinio, warnIfMinioSkipped } from '../storage/minio.js';
import { runTakedownFaultSuite } from './takedown-faults.js';

/**
 * The takedown fault suite against MinIO, which verifies every SigV4 signature (s3rver does
 * not): two MinIO processes, primary and secondary, one killed by pid mid-run and restarted on
 * the same port with the same data directory. Skipped locally without the minio binary
 * (scripts/setup-minio.sh); required in CI.
 */
warnIfMinioSkipped('takedown-faults-minio.test.ts');

describe.skipIf(!RUN_MINIO)('MinIO', () => {
  runTakedownFaultSuite('minio', async (buckets) => {
    const server = await startMinio(buckets);
    return {
      endpoint: server.endpoint,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      kill: () => server.kill(),
      restart: () => server.restart(),
      stop: () => server.stop(),
    };
  });
});
