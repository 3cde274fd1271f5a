import { HttpError } from '../errors.js';

/**
 * Rate limits, read from RATE_LIMITS_JSON (a Fastly Config Store entry; an environment
 * variable on Node and Deno). Pure parsing and the refusals every host answers with; each host
 * applies the limits its own way (Fastly: hosts/fastly/edge-limits.ts with
 * fastly:edge-rate-limiter; Node and Deno: in-process-limiter.ts). Two limits, each
 * configurable per tenant:
 *
 *   - per client IP (image requests, hits included): an average of `clientRps` requests per
 *     second over `clientWindow` seconds (1, 10 or 60); past it the IP is put in the penalty
 *     box for `penaltyMinutes` and gets 429 with Retry-After until it is let out;
 *   - per tenant renders: `rendersPerMinute`; past it the request answers 503 with
 *     Retry-After, or something already cached (Fastly: the stale copy; Node and Deno: a
 *     neighbouring size). This is what the budget protects: an unsigned tenant's `v=` values
 *     and size ladder can be walked by anyone, and every new one is a render.
 *
 * The numbers are per Fastly POP (whose counters are approximate: they converge within
 * seconds), or per Node/Deno process; 0 turns a limit off.
 */

export interface RateLimit {
  clientRps: number;
  clientWindow: 1 | 10 | 60;
  penaltyMinutes: number;
  rendersPerMinute: number;
}

export interface RateLimits {
  defaults: RateLimit;
  tenants: Map<string, RateLimit>;
}

export const RATE_LIMIT_DEFAULTS: RateLimit = {
  // Generous for people behind one NAT (an office loading a page of 100 avatars), far below a crawler.
  clientRps: 100,
  clientWindow: 10,
  penaltyMinutes: 1,
  rendersPerMinute: 600,
};

const FIELDS = Object.keys(RATE_LIMIT_DEFAULTS) as (keyof RateLimit)[];

/** Parses RATE_LIMITS_JSON (absent: the defaults), pushing every problem found. */
export function parseRateLimits(raw: string | undefined, problems: string[]): RateLimits {
  const out: RateLimits = { defaults: RATE_LIMIT_DEFAULTS, tenants: new Map() };
  if (raw === undefined || raw.trim() === '') return out;
  let input: unknown;
  try {
    input = JSON.parse(raw);
  } catch (err) {
    problems.push(`RATE_LIMITS_JSON is not JSON: ${(err as Error).message}`);
    return out;
  }
  if (!isObject(input)) {
    problems.push('RATE_LIMITS_JSON must be a JSON object');
    return out;
  }
  const { tenants, ...top } = input;
  out.defaults = readLimit('RATE_LIMITS_JSON', top, RATE_LIMIT_DEFAULTS, problems);
  if (tenants !== undefined) {
    if (!isObject(tenants)) problems.push('RATE_LIMITS_JSON.tenants must be an object of tenant → limits');
    else
      for (const [name, t] of Object.entries(tenants)) {
        if (!isObject(t)) problems.push(`RATE_LIMITS_JSON.tenants.${name} must be an object`);
        else out.tenants.set(name, readLimit(`RATE_LIMITS_JSON.tenants.${name}`, t, out.defaults, problems));
      }
  }
  return out;
}

export function limitFor(limits: RateLimits, tenant: string): RateLimit {
  return limits.tenants.get(tenant) ?? limits.defaults;
}

function readLimit(where: string, o: Record<string, unknown>, base: RateLimit, problems: string[]): RateLimit {
  for (const k of Object.keys(o)) if (!FIELDS.includes(k as keyof RateLimit)) problems.push(`${where}.${k} is not a rate limit setting (${FIELDS.join(', ')})`);
  const limit = { ...base, ...(o as Partial<RateLimit>) };
  const nonNegInt = (k: keyof RateLimit, max: number) => {
    const v = limit[k];
    if (!(typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max)) problems.push(`${where}.${k} must be an integer from 0 (off) to ${max}, got ${JSON.stringify(v)}`);
  };
  nonNegInt('clientRps', 100_000);
  nonNegInt('rendersPerMinute', 1_000_000);
  if (![1, 10, 60].includes(limit.clientWindow)) problems.push(`${where}.clientWindow must be 1, 10 or 60 (seconds), got ${JSON.stringify(limit.clientWindow)}`);
  // Fastly's penalty box keeps an entry 1 to 60 minutes.
  if (!(Number.isInteger(limit.penaltyMinutes) && limit.penaltyMinutes >= 1 && limit.penaltyMinutes <= 60)) {
    problems.push(`${where}.penaltyMinutes must be an integer from 1 to 60, got ${JSON.stringify(limit.penaltyMinutes)}`);
  }
  return limit;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** 429 RATE_LIMITED: the client is in the penalty box for `retryAfter` more seconds. */
export function rateLimitedError(retryAfter: number): HttpError {
  return new HttpError(429, 'RATE_LIMITED', `too many requests from this address; retry in ${retryAfter} s`, { 'retry-after': String(retryAfter) });
}

/**
 * 503 RENDER_BUDGET: a server-side condition, not the client's doing. `headers` adds the
 * host's own (Fastly marks a shield's refusal with one).
 */
export function renderBudgetError(tenant: string, limit: RateLimit, retryAfter: number, headers: Record<string, string> = {}): HttpError {
  return new HttpError(503, 'RENDER_BUDGET', `tenant '${tenant}' is over its render budget (${limit.rendersPerMinute} per minute); retry later`, {
    'retry-after': String(retryAfter),
    ...headers,
  });
}

/** One line for a host's start-up log. */
export function describeRateLimits(limits: RateLimits): string {
  const d = limits.defaults;
  const client = d.clientRps ? `${d.clientRps} req/s per client IP over ${d.clientWindow} s (penalty ${d.penaltyMinutes} min)` : 'no client limit';
  const renders = d.rendersPerMinute ? `${d.rendersPerMinute} renders/min per tenant` : 'no render budget';
  const own = limits.tenants.size ? `; own limits for ${[...limits.tenants.keys()].join(', ')}` : '';
  return `${client}, ${renders}${own}`;
}
