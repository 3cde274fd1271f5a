import type { ServiceConfig } from '../config/service-config.js';
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
  clock?: Clock;
  retry?: RetryPolicy;
  sleep?: Sleep;
}
