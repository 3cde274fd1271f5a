import { S3RVER_KEY, startS3rver } from '../storage/s3rver.js';
import { runTakedownFaultSuite } from './takedown-faults.js';

// Two s3rver processes, one per store; the suite kills one by pid and restarts it.
runTakedownFaultSuite('s3rver', async (buckets) => {
  const server = await startS3rver(buckets);
  return { ...server, endpoint: server.endpoint, credentials: { ...S3RVER_KEY }, kill: () => server.kill(), restart: () => server.restart(), stop: () => server.stop() };
});
