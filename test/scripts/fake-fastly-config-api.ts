import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenCall {
  method: string;
  path: string;
  body: Record<string, unknown> | null;
}

interface Version {
  number: number;
  active: boolean;
  locked: boolean;
  backends: Record<string, unknown>[];
  resources: { id: string; resource_id: string; name: string }[];
  domains: { name: string }[];
}

/**
 * A loopback stand-in for the parts of api.fastly.com the deploy uses, with state: Config
 * Stores and items, Secret Stores and secrets (kept decoded), and one service's versions with
 * their backends, resource links and domains. It behaves as Fastly does where the deploy could
 * get it wrong: a wrong Fastly-Key is 401; an active or locked version cannot be edited (400);
 * a duplicate store, backend or link name is 409; item and backend fields come form-encoded,
 * store bodies as JSON, secrets base64-encoded.
 */
export async function startFakeFastlyConfigApi(opts: { token: string; serviceId: string }) {
  const calls: SeenCall[] = [];
  const state = {
    configStores: [] as { id: string; name: string; items: Map<string, string> }[],
    secretStores: [] as { id: string; name: string; secrets: Map<string, string> }[],
    versions: [{ number: 1, active: true, locked: true, backends: [], resources: [], domains: [] }] as Version[],
  };
  let ids = 0;
  const id = (p: string) => `${p}${++ids}`;

  const server = createServer(async (req, res) => {
    const raw = await read(req);
    const type = String(req.headers['content-type'] ?? '');
    const body = !raw ? null : type.includes('json') ? (JSON.parse(raw) as Record<string, unknown>) : Object.fromEntries(new URLSearchParams(raw));
    const url = new URL(req.url ?? '/', 'http://x');
    calls.push({ method: req.method ?? '', path: url.pathname, body });
    if (req.headers['fastly-key'] !== opts.token) return send(res, 401, { msg: 'Provided credentials are missing or invalid' });
    const m = (re: RegExp) => url.pathname.match(re);
    const method = req.method;
    let r: RegExpMatchArray | null;

    if (url.pathname === '/resources/stores/config') {
      if (method === 'GET')
        return send(
          res,
          200,
          state.configStores.map(({ id, name }) => ({ id, name })),
        );
      if (state.configStores.some((s) => s.name === body?.name)) return send(res, 409, { msg: 'duplicate store name' });
      const s = { id: id('cfg'), name: String(body?.name), items: new Map<string, string>() };
      state.configStores.push(s);
      return send(res, 200, { id: s.id, name: s.name });
    }
    if ((r = m(/^\/resources\/stores\/config\/([^/]+)\/items$/))) {
      const s = state.configStores.find((x) => x.id === r![1]);
      if (!s) return send(res, 404, { msg: 'no such store' });
      return send(
        res,
        200,
        [...s.items].map(([item_key, item_value]) => ({ item_key, item_value })),
      );
    }
    if ((r = m(/^\/resources\/stores\/config\/([^/]+)\/item\/([^/]+)$/)) && method === 'PUT') {
      const s = state.configStores.find((x) => x.id === r![1]);
      if (!s) return send(res, 404, { msg: 'no such store' });
      if (typeof body?.item_value !== 'string') return send(res, 400, { msg: 'item_value required (form field)' });
      s.items.set(decodeURIComponent(r[2]!), body.item_value);
      return send(res, 200, { item_key: decodeURIComponent(r[2]!), item_value: body.item_value });
    }
    if (url.pathname === '/resources/stores/secret') {
      if (method === 'GET') return send(res, 200, { data: state.secretStores.map(({ id, name }) => ({ id, name })), meta: { next_cursor: '' } });
      if (!type.includes('json')) return send(res, 415, { msg: 'JSON body expected' });
      if (state.secretStores.some((s) => s.name === body?.name)) return send(res, 409, { msg: 'duplicate store name' });
      const s = { id: id('sec'), name: String(body?.name), secrets: new Map<string, string>() };
      state.secretStores.push(s);
      return send(res, 200, { id: s.id, name: s.name });
    }
    if ((r = m(/^\/resources\/stores\/secret\/([^/]+)\/secrets$/)) && method === 'PUT') {
      const s = state.secretStores.find((x) => x.id === r![1]);
      if (!s) return send(res, 404, { msg: 'no such store' });
      if (!type.includes('json') || typeof body?.name !== 'string' || typeof body.secret !== 'string') return send(res, 400, { msg: 'name and base64 secret required' });
      s.secrets.set(body.name, Buffer.from(body.secret, 'base64').toString('utf8'));
      return send(res, 200, { name: body.name, digest: 'x' });
    }
    if ((r = m(/^\/service\/([^/]+)\/version$/)) && method === 'GET') {
      if (r[1] !== opts.serviceId) return send(res, 404, { msg: 'no such service' });
      return send(
        res,
        200,
        state.versions.map(({ number, active, locked }) => ({ number, active, locked })),
      );
    }
    if ((r = m(/^\/service\/([^/]+)\/version\/(\d+)(\/.*)?$/))) {
      const v = r[1] === opts.serviceId ? state.versions.find((x) => x.number === Number(r![2])) : undefined;
      if (!v) return send(res, 404, { msg: 'no such service version' });
      const rest = r[3] ?? '';
      if (rest === '/clone' && method === 'PUT') {
        const number = Math.max(...state.versions.map((x) => x.number)) + 1;
        state.versions.push({ ...structuredClone(v), number, active: false, locked: false });
        return send(res, 200, { number });
      }
      const list = rest === '/backend' ? v.backends : rest === '/resource' ? v.resources : rest === '/domain' ? v.domains : null;
      if (method === 'GET' && list) return send(res, 200, list);
      if (method !== 'GET' && (v.locked || v.active)) return send(res, 400, { msg: 'Version locked', detail: `version ${v.number} is locked and cannot be edited` });
      if (rest === '/backend' && method === 'POST') {
        if (v.backends.some((b) => b.name === body?.name)) return send(res, 409, { msg: 'Duplicate record' });
        v.backends.push(backend(body!));
        return send(res, 200, backend(body!));
      }
      if ((r = rest.match(/^\/backend\/([^/]+)$/)) && method === 'PUT') {
        const i = v.backends.findIndex((b) => b.name === decodeURIComponent(r![1]!));
        if (i < 0) return send(res, 404, { msg: 'Record not found' });
        v.backends[i] = { ...v.backends[i], ...backend(body!) };
        return send(res, 200, v.backends[i]);
      }
      if (rest === '/resource' && method === 'POST') {
        if (v.resources.some((x) => x.name === body?.name)) return send(res, 409, { msg: 'Duplicate record' });
        const link = { id: id('link'), resource_id: String(body?.resource_id), name: String(body?.name) };
        v.resources.push(link);
        return send(res, 200, link);
      }
      if (rest === '/domain' && method === 'POST') {
        v.domains.push({ name: String(body?.name) });
        return send(res, 200, { name: body?.name });
      }
    }
    return send(res, 404, { msg: `fake Fastly API: no route for ${method} ${url.pathname}` });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    state,
    /** Activates a version as `fastly compute deploy` would (locks it). */
    activate(number: number) {
      for (const v of state.versions) v.active = v.number === number;
      state.versions.find((v) => v.number === number)!.locked = true;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A backend as Fastly answers it: numbers and booleans typed, from form fields. */
function backend(f: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f)) {
    out[k] = ['port', 'connect_timeout', 'first_byte_timeout', 'between_bytes_timeout'].includes(k) ? Number(v) : k === 'use_ssl' ? v === '1' || v === 'true' : v;
  }
  return out;
}

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = '';
    req.on('data', (d) => (s += d));
    req.on('end', () => resolve(s));
  });
}

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
