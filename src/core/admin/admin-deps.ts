import type { ServiceConfig } from '../config/service-config.js';
import type { InFlightRegistry } from '../in-flight.js';
import type { Clock, ObjectStore } from '../ports.js';
import type { RetryPolicy, Sleep } from '../bounded.js';
import type { Purger } from '../purge/purger.js';
import type { CachedStatus, FetchLike } from './verify-gone.js';

/** The ports the admin operations need; every host supplies its own. */
export interface AdminDeps {
  store: ObjectStore;
  purger: Purger;
  config: ServiceConfig;
  /** The image pipeline, to verify takedowns by re-requesting (omit to skip HTTP verification). */
  fetch?: FetchLike;
  /** Renders and uploads in flight in this process: a takedown cancels and waits for them. */
  inFlight?: InFlightRegistry;
  /** How long a takedown waits for them (default FENCE_TIMEOUT_MS). */
  fenceTimeoutMs?: number;
  /** Verify takedowns by edge-cache lookups instead (Fastly: no backend request per URL); wins over `fetch`. */
  cached?: CachedStatus;
  /** Most images one erase call works on; the rest are answered as `remaining` for the next call (Fastly's per-execution request limit). */
  maxImagesPerCall?: number;
  /**
   * A takedown or erasure of one image does not fit one call (Fastly with a failover secondary
   * at the limit of 10): split it, one image and one stage per call (`remove`, then `verify`),
   * each answered 202 with `next` until the last, which answers as an unsplit call would.
   */
  splitRemoval?: boolean;
  clock?: Clock;
  retry?: RetryPolicy;
  sleep?: Sleep;
}
