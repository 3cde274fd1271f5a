import type { ServiceConfig } from '../config/service-config.js';
import type { InFlightRegistry } from '../in-flight.js';
import type { Clock, ObjectStore } from '../ports.js';
import type { RetryPolicy, Sleep } from './bounded.js';
import type { Purger } from './purger.js';
import type { FetchLike } from './verify-gone.js';

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
  clock?: Clock;
  retry?: RetryPolicy;
  sleep?: Sleep;
}
