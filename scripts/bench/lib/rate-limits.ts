/**
 * RATE_LIMITS_JSON for the hosts the benches start: the limits stay on (every request pays
 * for its check, as in production) but are never reached, so a bench that sends thousands of
 * requests a second from one address, or renders a corpus as fast as it can, measures the
 * host rather than its refusals.
 */
export const BENCH_RATE_LIMITS = JSON.stringify({ clientRps: 100_000, rendersPerMinute: 1_000_000 });
