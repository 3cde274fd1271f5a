/**
 * The settings a sandbox has read, kept for a few seconds. With reusable sandboxes
 * (sandbox-reuse.ts) one sandbox answers many requests, and reading and validating the Config
 * Store and Secret Store entries was the biggest part of a cache hit's CPU (docs/fastly.md,
 * "CPU per request"). A request reuses what an earlier one read when it is younger than
 * `maxAgeMs`, so a changed entry (a new tenant, a rotated signing key or render secret) takes
 * effect within that many seconds, plus the stores' own propagation. A failed read (a
 * ConfigError) is never kept: the next request reads again, so a fixed entry applies at once.
 *
 * Admin tokens and the bucket's keys are not kept (the admin API and misses read them per
 * request), so revoking an admin token applies to the next request.
 */
import type { MaybePromise } from '../../core/maybe-promise.js';
import type { SettingsSource } from './settings.js';

/** How long read settings are reused, ms: the longest a store change waits to apply in a running sandbox. */
export const SETTINGS_MAX_AGE_MS = 5_000;

export interface SettingsMemoOptions {
  maxAgeMs?: number;
  /** Wall-clock ms (Date.now by default; tests pass their own). */
  now?: () => number;
}

/**
 * `read` at most once per `maxAgeMs`; concurrent requests share one read. Once a read has
 * succeeded its settings are handed out as they are, not as a Promise, so a request that finds
 * them in hand need not wait a turn of the event loop for them (core/maybe-promise.ts).
 */
export function memoSettings<T>(read: (src: SettingsSource) => Promise<T>, { maxAgeMs = SETTINGS_MAX_AGE_MS, now = Date.now }: SettingsMemoOptions = {}) {
  let held: { at: number; value: Promise<T>; read?: { settings: T } } | undefined;
  // The source is made only when the settings are read (a request that finds them in hand makes none).
  return (src: () => SettingsSource): MaybePromise<T> => {
    const t = now();
    // A clock that went backwards does not extend the window.
    if (held && t >= held.at && t - held.at < maxAgeMs) return held.read ? held.read.settings : held.value;
    const value = read(src());
    const entry: NonNullable<typeof held> = { at: t, value };
    held = entry;
    value.then(
      (settings) => {
        entry.read = { settings };
      },
      () => {
        if (held === entry) held = undefined;
      },
    );
    return value;
  };
}
