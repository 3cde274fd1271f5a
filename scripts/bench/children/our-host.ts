/** The local Node host for the HTTP suites: `our-host.ts <dataDir>`; prints {"url": …}. */
import { loadServiceConfig } from '../../../src/core/config/service-config.js';
import { startNodeApp } from '../../../src/hosts/node/create-node-app.js';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: our-host.ts <dataDir>');
const app = await startNodeApp({ config: loadServiceConfig({ tenants: { demo: {} } }), dataDir, log: () => {} });
process.stdout.write(JSON.stringify({ url: app.url, pid: process.pid }) + '\n');
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
