import { Backend } from './backend.js';

/**
 * Test double of `fastly:shielding`. `shieldSites` plays fastly.toml's
 * [local_server.shielding_sites]: 'local' (we run on that POP) or 'remote'; any other name
 * throws like Viceroy's "Invalid argument".
 */
export const shieldSites: Record<string, 'local' | 'remote'> = {};

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
    return Object.assign(new Backend({ name: `shield:${this.name}:encrypted` }), { firstByteTimeout: cfg.firstByteTimeout ?? null });
  }
  unencryptedBackend(cfg: { firstByteTimeout?: number } = {}): Backend {
    if (this.runningOn()) throw new Error('backend_for_shield: Invalid argument.');
    return Object.assign(new Backend({ name: `shield:${this.name}:unencrypted` }), { firstByteTimeout: cfg.firstByteTimeout ?? null });
  }
}
