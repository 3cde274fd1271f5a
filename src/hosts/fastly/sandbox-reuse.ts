/**
 * How long one Compute sandbox lives (js-compute's reusable sandboxes, `fastly:experimental`'s
 * setReusableSandboxOptions, called by main.ts at build time). Without it every request starts
 * from the snapshot and nothing it computes survives; with it, one sandbox answers requests
 * one after another, so the settings read from the stores (settings-memo.ts), imported HMAC
 * keys (core/auth/hmac.ts) and compiled code stay warm between them.
 *
 * Every bound is fixed at build time: `npm run build:fastly` passes these environment
 * variables in (scripts/build-fastly.mjs), and a value this file refuses fails the build.
 * docs/fastly.md ("CPU per request") explains the defaults.
 *
 * No `fastly:*` here, so the parsing is tested like the core.
 */

/** The options js-compute takes (types/experimental.d.ts, ReusableSandboxOptions). */
export interface SandboxOptions {
  maxRequests: number;
  betweenRequestTimeoutMs: number;
  sandboxTimeoutMs: number;
  maxMemoryMiB: number;
}

export const SANDBOX_DEFAULTS: SandboxOptions = {
  // Requests one sandbox answers before a fresh one replaces it; 1 turns reuse off.
  maxRequests: 1000,
  // Idle time after which the sandbox is dropped instead of waiting for another request.
  betweenRequestTimeoutMs: 10_000,
  // Age after which the sandbox is replaced once its current request is done.
  sandboxTimeoutMs: 300_000,
  // Memory past which the sandbox is replaced before its next request.
  maxMemoryMiB: 128,
};

/** Build-time variable → option, with the range a value must fall in. */
const VARIABLES: Record<keyof SandboxOptions, { name: string; min: number; max: number }> = {
  maxRequests: { name: 'FASTLY_SANDBOX_MAX_REQUESTS', min: 1, max: 100_000 },
  betweenRequestTimeoutMs: { name: 'FASTLY_SANDBOX_IDLE_MS', min: 1, max: 600_000 },
  sandboxTimeoutMs: { name: 'FASTLY_SANDBOX_LIFETIME_MS', min: 1, max: 3_600_000 },
  maxMemoryMiB: { name: 'FASTLY_SANDBOX_MAX_MEMORY_MIB', min: 16, max: 4096 },
};

/** What build-fastly.mjs forwards: every variable named like this, so a misspelt one is refused rather than ignored. */
const PREFIX = 'FASTLY_SANDBOX_';

/**
 * The sandbox options from the build's environment: defaults for what is unset, an Error
 * listing every refused value or unknown FASTLY_SANDBOX_* name otherwise (every bound stays
 * finite: no 0 for "unlimited").
 */
export function sandboxOptions(env: Record<string, string | undefined>): SandboxOptions {
  const problems: string[] = [];
  const options = { ...SANDBOX_DEFAULTS };
  for (const key of Object.keys(VARIABLES) as (keyof SandboxOptions)[]) {
    const { name, min, max } = VARIABLES[key];
    const raw = env[name]?.trim();
    if (!raw) continue;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) problems.push(`${name} must be an integer from ${min} to ${max}, got '${raw}'`);
    else options[key] = n;
  }
  const known = new Set(Object.values(VARIABLES).map((v) => v.name));
  for (const name of Object.keys(env)) {
    if (name.startsWith(PREFIX) && !known.has(name)) problems.push(`${name} is not a sandbox setting (${[...known].join(', ')})`);
  }
  if (problems.length) throw new Error(problems.join('; '));
  return options;
}
