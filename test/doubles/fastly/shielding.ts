import { Backend } from './backend.js';

/**
 * Test double of `fastly:shielding`. `shieldSites` plays fastly.toml's
 * [local_server.shielding_sites]: 'local' (we run on that POP) or 'remote'; any other name
 * throws like Viceroy's "Invalid argument".
 */
export const shieldSites: Record<string, 'local' | 'remote'> = {};

/**
 * Shield backends made so far. Like Viceroy 0.22, asking for the same one twice fails: the
 * backend lives as long as the sandbox (this module, here), and a reused sandbox must keep it.
 */
const made = new Set<string>();

function once(name: string): string {
  if (made.has(name)) throw new Error('backend_for_shield: Generic error value. This means that some unexpected error occurred during a hostcall.');
  made.add(name);
  return name;
}

export class Shield {
  private readonly name: string;
  constructor(name: string) {
    if (!shieldSites[name]) throw new Error('constructor: Invalid argument.');
    this.name = name;
  }
  runningOn(): boolean {
    return shieldSites[this.name] === 'local';
  }
  encryptedBackend(cfg: { firstByteTimeout?: number } = {}): Backend {
    if (this.runningOn()) throw new Error('backend_for_shield: Invalid argument.');
    return Object.assign(new Backend({ name: once(`shield:${this.name}:encrypted`) }), { firstByteTimeout: cfg.firstByteTimeout ?? null });
  }
  unencryptedBackend(cfg: { firstByteTimeout?: number } = {}): Backend {
    if (this.runningOn()) throw new Error('backend_for_shield: Invalid argument.');
    return Object.assign(new Backend({ name: once(`shield:${this.name}:unencrypted`) }), { firstByteTimeout: cfg.firstByteTimeout ?? null });
  }
}
