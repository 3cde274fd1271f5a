import { checkApiBase, FASTLY_API } from '../admin/fastly-api-purger.js';

export interface FastlyApi {
  get<T>(path: string): Promise<T>;
  /** `form` is sent form-encoded (the service-version endpoints), `json` as JSON (the store endpoints). */
  send<T>(method: 'POST' | 'PUT', path: string, body: { form?: Record<string, string>; json?: unknown }): Promise<T>;
}

/**
 * The few calls the deploy makes to api.fastly.com, with the token in Fastly-Key. Errors name
 * the call and Fastly's message, never the token. No retries: a deploy that half-failed is
 * simply run again (every step is idempotent).
 */
export function createFastlyApi(token: string, base: string = FASTLY_API, fetchFn: typeof fetch = fetch): FastlyApi {
  const root = checkApiBase(base);
  async function call<T>(method: string, path: string, body?: { form?: Record<string, string>; json?: unknown }): Promise<T> {
    const headers: Record<string, string> = { 'fastly-key': token, accept: 'application/json' };
    let payload: string | undefined;
    if (body?.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      payload = new URLSearchParams(body.form).toString();
    } else if (body?.json !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body.json);
    }
    const res = await fetchFn(root + path, { method, headers, ...(payload === undefined ? {} : { body: payload }) });
    const text = await res.text();
    if (!res.ok) throw new Error(`Fastly API ${method} ${path} answered ${res.status}: ${messageOf(text)}`);
    return (text ? JSON.parse(text) : null) as T;
  }
  return { get: (path) => call('GET', path), send: (method, path, body) => call(method, path, body) };
}

function messageOf(text: string): string {
  try {
    const o = JSON.parse(text) as { msg?: string; detail?: string; message?: string };
    return [o.msg, o.detail ?? o.message].filter(Boolean).join(': ') || text.slice(0, 200);
  } catch {
    return text.slice(0, 200);
  }
}
