/** Test double of `fastly:cache-override`: keeps what it was given, for assertions. */
export class CacheOverride {
  mode: string;
  init: Record<string, unknown>;
  constructor(mode: string, init: Record<string, unknown> = {}) {
    this.mode = mode;
    this.init = init;
  }
}
