/** Test double of `fastly:backend`: a named backend. */
export class Backend {
  readonly name: string;
  constructor(cfg: { name: string }) {
    this.name = cfg.name;
  }
  toString() {
    return this.name;
  }
}
