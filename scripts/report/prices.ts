/**
 * Unit prices for the monthly cost estimate, in one currency (USD by default). The defaults are
 * round list-price placeholders: put your contract's prices in a JSON file (--prices) or flags.
 */
export interface Prices {
  currency: string;
  /** Per GB (10^9 bytes) of response bodies sent. */
  egressPerGB: number;
  /** Per million requests at the edge or host. */
  requestsPerMillion: number;
  /** Per million renders (compute on the renderer hosts). */
  rendersPerMillion: number;
  /** Per million store read operations (GET and HEAD, priced alike by S3 and R2). */
  storeGetsPerMillion: number;
}

export const DEFAULT_PRICES: Prices = {
  currency: 'USD',
  egressPerGB: 0.08,
  requestsPerMillion: 0.75,
  rendersPerMillion: 5,
  storeGetsPerMillion: 0.4,
};

const NUMERIC = ['egressPerGB', 'requestsPerMillion', 'rendersPerMillion', 'storeGetsPerMillion'] as const;
export const PRICE_FLAGS: Record<string, (typeof NUMERIC)[number]> = {
  'price-egress-gb': 'egressPerGB',
  'price-requests-million': 'requestsPerMillion',
  'price-renders-million': 'rendersPerMillion',
  'price-store-gets-million': 'storeGetsPerMillion',
};

/** Validates a prices object (from a --prices file): known numeric fields, non-negative. */
export function parsePrices(input: unknown, base: Prices = DEFAULT_PRICES): Prices {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new Error('prices must be a JSON object');
  const out: Prices = { ...base };
  for (const [k, v] of Object.entries(input)) {
    if (k === 'currency') {
      if (typeof v !== 'string' || !/^[A-Z]{3}$/.test(v)) throw new Error('currency must be a 3-letter code such as USD');
      out.currency = v;
    } else if ((NUMERIC as readonly string[]).includes(k)) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`${k} must be a number ≥ 0`);
      out[k as (typeof NUMERIC)[number]] = v;
    } else throw new Error(`unknown price '${k}' (known: currency, ${NUMERIC.join(', ')})`);
  }
  return out;
}
