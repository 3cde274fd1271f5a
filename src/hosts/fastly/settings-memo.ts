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
import type { SettingsSource } from './settings.js';

/** How long read settings are reused, ms: the longest a store change waits to apply in a running sandbox. */
export const SETTINGS_MAX_AGE_MS = 5_000;

export interface SettingsMemoOptions {
  maxAgeMs?: number;
  /** Wall-clock ms (Date.now by default; tests pass their own). */
  now?: () => number;
}

/** `read` at most once per `maxAgeMs`; concurrent requests share one read. */
export function memoSettings<T>(read: (src: SettingsSource) => Promise<T>, { maxAgeMs = SETTINGS_MAX_AGE_MS, now = Date.now }: SettingsMemoOptions = {}) {
  let held: { at: number; value: Promise<T> } | undefined;
  return (src: SettingsSource): Promise<T> => {
    const t = now();
    // A clock that went backwards does not extend the window.
    if (held && t >= held.at && t - held.at < maxAgeMs) return held.value;
    const value = read(src);
    const entry = { at: t, value };
    held = entry;
    value.catch(() => {
      if (held === entry) held = undefined;
    });
    return value;
  };
}
