/**
 * Test double of `fastly:backend`: a named backend. `staticBackends` plays the service's
 * configured backends for Backend.fromName (address and override host).
 */
export const staticBackends: Record<string, { target: string; hostOverride: string }> = {};

export class Backend {
  readonly name: string;
  readonly target: string;
  readonly hostOverride: string;
  constructor(cfg: { name: string; target?: string; hostOverride?: string }) {
    this.name = cfg.name;
    this.target = cfg.target ?? '';
    this.hostOverride = cfg.hostOverride ?? '';
  }
  toString() {
    return this.name;
  }
  static exists(name: string): boolean {
    return name in staticBackends;
  }
  static fromName(name: string): Backend {
    const b = staticBackends[name];
    if (!b) throw new TypeError(`Backend.fromName: backend '${name}' does not exist`);
    return new Backend({ name, ...b });
  }
}
