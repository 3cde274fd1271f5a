/**
 * Brings a Fastly service to a DeployPlan through the API, idempotently: everything is read
 * first and only differences are written, so a second run with the same environment writes
 * nothing but the secrets (whose values Fastly never returns, so they are always re-put).
 *
 *   Config Store, Secret Store   versionless: found by name or created; entries upserted
 *   backends, resource links,    versioned: compared with the newest version; if anything
 *   domains                      differs, written to it when it is a draft, else to a clone
 *                                of it. The version is left as a draft for
 *                                `fastly compute deploy --version latest`, which uploads the
 *                                package to it and activates it.
 */
import type { FastlyApi } from './api.js';
import type { BackendSpec, DeployPlan } from './plan.js';

interface Store {
  id: string;
  name: string;
}
interface Version {
  number: number;
  active: boolean;
  locked: boolean;
}
interface Link {
  resource_id: string;
  name: string;
}

export interface DeployReport {
  /** One line per write, in order; reads are not listed. */
  actions: string[];
  /** The version holding the backends and links (a draft when it changed), or null when the service has no version. */
  version: number | null;
  versionChanged: boolean;
}

export async function applyDeploy(api: FastlyApi, plan: DeployPlan): Promise<DeployReport> {
  const actions: string[] = [];
  const sid = encodeURIComponent(plan.serviceId);

  // Config Store and its entries.
  const configStores = await api.get<Store[]>('/resources/stores/config');
  let configStore = configStores.find((s) => s.name === plan.configStore);
  if (!configStore) {
    configStore = await api.send<Store>('POST', '/resources/stores/config', { form: { name: plan.configStore } });
    actions.push(`created Config Store ${plan.configStore} (${configStore.id})`);
  }
  const items = await api.get<{ item_key: string; item_value: string }[]>(`/resources/stores/config/${configStore.id}/items`);
  const current = new Map(items.map((i) => [i.item_key, i.item_value]));
  for (const [key, value] of Object.entries(plan.config)) {
    if (current.get(key) === value) continue;
    await api.send('PUT', `/resources/stores/config/${configStore.id}/item/${encodeURIComponent(key)}`, { form: { item_value: value } });
    actions.push(`${current.has(key) ? 'updated' : 'created'} config entry ${key}`);
  }

  // Secret Store and its secrets (create or recreate: PUT).
  const secretStores = await listSecretStores(api);
  let secretStore = secretStores.find((s) => s.name === plan.secretStore);
  if (!secretStore) {
    secretStore = await api.send<Store>('POST', '/resources/stores/secret', { json: { name: plan.secretStore } });
    actions.push(`created Secret Store ${plan.secretStore} (${secretStore.id})`);
  }
  for (const [name, value] of Object.entries(plan.secrets)) {
    await api.send('PUT', `/resources/stores/secret/${secretStore.id}/secrets`, { json: { name, secret: Buffer.from(value, 'utf8').toString('base64') } });
    actions.push(`put secret ${name}`);
  }

  // The versioned part: compare with the newest version, write only the differences.
  const versions = await api.get<Version[]>(`/service/${sid}/version`);
  const newest = versions.reduce<Version | null>((a, v) => (!a || v.number > a.number ? v : a), null);
  if (!newest) throw new Error(`service ${plan.serviceId} has no version: create it with npx fastly service create --type wasm`);
  const base = `/service/${sid}/version/${newest.number}`;
  const [backends, links, domains] = await Promise.all([api.get<BackendSpec[]>(`${base}/backend`), api.get<Link[]>(`${base}/resource`), api.get<{ name: string }[]>(`${base}/domain`)]);
  const writes: { what: string; run: (v: string) => Promise<unknown> }[] = [];
  for (const want of plan.backends) {
    const have = backends.find((b) => b.name === want.name);
    const form = backendForm(want);
    if (!have) writes.push({ what: `created backend ${want.name} → ${want.address}:${want.port}`, run: (v) => api.send('POST', `${v}/backend`, { form }) });
    else if (backendDiffers(have, want))
      writes.push({ what: `updated backend ${want.name} → ${want.address}:${want.port}`, run: (v) => api.send('PUT', `${v}/backend/${encodeURIComponent(want.name)}`, { form }) });
  }
  for (const store of [configStore, secretStore]) {
    if (links.some((l) => l.resource_id === store.id)) continue;
    writes.push({ what: `linked store ${store.name}`, run: (v) => api.send('POST', `${v}/resource`, { form: { resource_id: store.id, name: store.name } }) });
  }
  for (const name of plan.domains) {
    if (domains.some((d) => d.name === name)) continue;
    writes.push({ what: `added domain ${name}`, run: (v) => api.send('POST', `${v}/domain`, { form: { name } }) });
  }
  if (!writes.length) return { actions, version: newest.number, versionChanged: false };

  let number = newest.number;
  if (newest.locked || newest.active) {
    number = (await api.send<{ number: number }>('PUT', `${base}/clone`, {})).number;
    actions.push(`cloned version ${newest.number} → ${number}`);
  }
  for (const w of writes) {
    await w.run(`/service/${sid}/version/${number}`);
    actions.push(`${w.what} (version ${number})`);
  }
  return { actions, version: number, versionChanged: true };
}

async function listSecretStores(api: FastlyApi): Promise<Store[]> {
  const out: Store[] = [];
  let cursor = '';
  // Paginated; bounded so a misbehaving API cannot loop forever.
  for (let page = 0; page < 100; page++) {
    const res = await api.get<{ data: Store[]; meta?: { next_cursor?: string } }>(`/resources/stores/secret${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`);
    out.push(...res.data);
    cursor = res.meta?.next_cursor ?? '';
    if (!cursor) break;
  }
  return out;
}

const COMPARED = ['address', 'port', 'use_ssl', 'ssl_cert_hostname', 'ssl_sni_hostname', 'override_host', 'connect_timeout', 'first_byte_timeout', 'between_bytes_timeout'] as const;

function backendDiffers(have: BackendSpec, want: BackendSpec): boolean {
  return COMPARED.some((k) => String(have[k] ?? '') !== String(want[k] ?? ''));
}

function backendForm(b: BackendSpec): Record<string, string> {
  const form: Record<string, string> = {};
  for (const [k, v] of Object.entries(b)) if (v !== null) form[k] = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
  return form;
}
