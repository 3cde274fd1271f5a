import { fileURLToPath } from 'node:url';

/**
 * The repository root, whether this runs from src/hosts/node/ (tsx, vitest) or bundled into
 * dist/<name>/ (scripts/build-node.mjs: `npm start`), where esbuild inlines it into the bundle
 * and import.meta.url is the bundle's.
 */
export const REPO_ROOT = fileURLToPath(new URL(/\/dist\/[^/]+\/[^/]+$/.test(new URL(import.meta.url).pathname) ? '../../' : '../../../', import.meta.url));
