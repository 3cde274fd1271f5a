/** A thin client for /_admin/* of a deployed service (the CLI's only way in). */

export class AdminClientError extends Error {
  constructor(
    message: string,
    /** 0 when the service could not be reached. */
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
    this.name = 'AdminClientError';
  }
}

export interface AdminReply {
  status: number;
  body: Record<string, unknown>;
}

export function createAdminClient(opts: { baseUrl: string; token: string; fetch?: typeof fetch }) {
  let base: URL;
  try {
    base = new URL(opts.baseUrl);
  } catch {
    throw new AdminClientError(`--url '${opts.baseUrl}' is not a URL`, 0, 'USAGE');
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new AdminClientError('--url must be http(s)', 0, 'USAGE');
  const doFetch = opts.fetch ?? fetch;

  return {
    /** The service's base URL (also where its public image URLs are). */
    baseUrl: base.href,
    /** Resolves with any reply that has a JSON body (2xx, 4xx, 500 INCOMPLETE); throws when there is none. */
    async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<AdminReply> {
      const url = new URL(`_admin/${path}`, base.href.endsWith('/') ? base : `${base.href}/`);
      let res: Response;
      try {
        res = await doFetch(url, {
          method,
          headers: { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json', accept: 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause?.code;
        throw new AdminClientError(`cannot reach ${base.origin}${cause ? ` (${cause})` : ''}`, 0, 'UNREACHABLE');
      }
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new AdminClientError(`HTTP ${res.status} from ${url.pathname} without a JSON body`, res.status, 'BAD_REPLY');
      }
      if (typeof parsed !== 'object' || parsed === null) throw new AdminClientError(`HTTP ${res.status}: unexpected reply`, res.status, 'BAD_REPLY');
      return { status: res.status, body: parsed as Record<string, unknown> };
    },
  };
}
