/**
 * GET / on hosts that want it: one HTML page showing the service at work — the demo tenant's
 * samples in both URL forms with srcset, a URL signed while the page is generated, and a
 * generated fallback avatar. Each image's canonical variant, format, bytes and cache status
 * are read back from the service's own response headers by a small inline script.
 * Web APIs only (no framework, no platform modules), so every host can serve it.
 */
import { signUrl } from '../core/auth/sign-url.js';
import type { ServiceConfig } from '../core/config/service-config.js';
import type { Tenant } from '../core/config/tenant-config.js';
import { snapUp } from '../core/request/canonicalize.js';

export interface DemoPageOptions {
  config: ServiceConfig;
  /** The unsigned tenant whose samples are shown. */
  tenant?: string;
  /** Ids that have originals (samples/demo). */
  ids?: readonly string[];
  /** Ids without an original, shown through the tenant's generated fallback. */
  missingIds?: readonly string[];
  /** The signed example: a tenant that requires signatures and an id it has; off when null. */
  signed?: { tenant: string; id: string } | null;
  /** ms since the epoch (signature expiry). */
  now?: () => number;
  /** Centre and face crops side by side: a tenant and ids it has (samples/faces); off when null or not configured. */
  faces?: { tenant: string; ids: readonly string[] } | null;
}

export const DEMO_IDS = ['hopper', 'astronaut', 'mysha', 'plant', 'seeding', 'free'] as const;
export const DEMO_MISSING_IDS = ['ada-lovelace', 'jane-doe', 'guest-7'] as const;
/** Off-centre portraits served by the local tenant `faces` (samples/faces). */
export const DEMO_FACE_IDS = ['hopper-left', 'astronaut-right', 'camera-top', 'group'] as const;
/** CSS pixels of every avatar on the page; 1x/2x/3x (128/256/384) are all on the default ladder. */
export const DEMO_CSS_SIZE = 128;
/** Signed URLs on the page live this long; the page itself is never cached. */
const SIGNED_TTL = 3600;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Escapes text and attribute values (always double-quoted here). */
export const esc = (s: string | number): string => String(s).replace(/[&<>"']/g, (c) => ESCAPES[c]!);

const DENSITIES = [1, 2, 3] as const;

interface Card {
  title: string;
  note: string;
  /** The <img> (or <picture>) markup. */
  media: string;
}

/** The pixel width a density asks for, as the service will snap it (so w descriptors are true). */
const pixels = (t: Tenant, d: number) => snapUp(DEMO_CSS_SIZE * d, t.breakpoints);

function img(src: string, srcset: string, alt: string, sizes?: string): string {
  const s = DEMO_CSS_SIZE;
  return `<img src="${esc(src)}" srcset="${esc(srcset)}"${sizes ? ` sizes="${esc(sizes)}"` : ''} width="${s}" height="${s}" alt="${esc(alt)}" decoding="async">`;
}

/** Query form, negotiated format: `w` descriptors + `sizes`, the browser does the DPR math. */
function queryCard(t: Tenant, id: string, title: string, note: string): Card {
  const url = (px: number) => `/${t.name}/${encodeURIComponent(id)}?w=${px}&h=${px}`;
  const srcset = DENSITIES.map((d) => `${url(pixels(t, d))} ${pixels(t, d)}w`).join(', ');
  return { title, note, media: img(url(pixels(t, 1)), srcset, id, `(max-width: 480px) 96px, ${DEMO_CSS_SIZE}px`) };
}

/** Template form: format fixed in the path, so <picture> offers WebP and falls back to JPEG. */
function templateCard(t: Tenant, id: string): Card {
  const set = (ext: string) => DENSITIES.map((d) => `/${t.name}/${encodeURIComponent(id)}/${pixels(t, d)}.${ext} ${d}x`).join(', ');
  const media = `<picture><source type="image/webp" srcset="${esc(set('webp'))}">${img(`/${t.name}/${encodeURIComponent(id)}/${pixels(t, 1)}.jpg`, set('jpg'), id)}</picture>`;
  return { title: id, note: `/${t.name}/${id}/{size}.webp · 1x 2x 3x`, media };
}

/** One photo twice: the centre crop and the face crop (g=center, g=auto), same size and format. */
function faceCards(t: Tenant, id: string): Card[] {
  const card = (g: 'center' | 'auto', note: string): Card => {
    const url = (px: number) => `/${t.name}/${encodeURIComponent(id)}?w=${px}&h=${px}&g=${g}`;
    const srcset = DENSITIES.map((d) => `${url(pixels(t, d))} ${pixels(t, d)}w`).join(', ');
    return { title: `${id} · g=${g}`, note, media: img(url(pixels(t, 1)), srcset, `${id}, ${g === 'center' ? 'centre' : 'face'} crop`, `${DEMO_CSS_SIZE}px`) };
  };
  return [card('center', 'centre crop'), card('auto', 'face, else detail, else centre')];
}

async function signedCards(config: ServiceConfig, opts: DemoPageOptions): Promise<{ cards: Card[]; links: string } | null> {
  const want = opts.signed === undefined ? autoSigned(config) : opts.signed;
  const t = want ? config.tenants.get(want.tenant) : undefined;
  const kid = t ? Object.keys(t.keys).sort()[0] : undefined;
  if (!want || !t || !kid) return null;
  const now = (opts.now ?? Date.now)();
  const sign = (params: Record<string, number | string>) => signUrl({ tenant: t, id: want.id, params, kid, ttl: SIGNED_TTL, now, limits: config.limits });
  const set = await Promise.all(DENSITIES.map((d) => sign({ w: pixels(t, d), h: pixels(t, d) })));
  const srcset = set.map((s, i) => `${s.url} ${DENSITIES[i]}x`).join(', ');
  const templates = (await Promise.all(DENSITIES.map((d) => sign({ w: pixels(t, d), h: pixels(t, d), fmt: 'webp' })))).map((s) => s.templateUrl);
  const embed = t.allowedReferers.length ? `embeddable from ${t.allowedReferers.join(', ')}` : 'embeddable anywhere';
  const cards: Card[] = [{ title: `${t.name}/${want.id}`, note: `signed query form, key ${kid}, valid ${SIGNED_TTL / 60} min · ${embed}`, media: img(set[0]!.url, srcset, `${want.id} (signed)`) }];
  if (templates.every((u) => u !== null)) {
    const tset = templates.map((u, i) => `${u} ${DENSITIES[i]}x`).join(', ');
    cards.push({ title: `${t.name}/${want.id}`, note: 'signed template form, fmt fixed (webp) · 1x 2x 3x', media: img(templates[0]!, tset, `${want.id} (signed, template form)`) });
  }
  const unsigned = `/${t.name}/${encodeURIComponent(want.id)}?w=${pixels(t, 1)}&h=${pixels(t, 1)}`;
  const links = `<p>The same image without a signature is refused: <a href="${esc(unsigned)}"><code>${esc(unsigned)}</code></a> → 403 <code>SIGNATURE_REQUIRED</code>. Sign your own with <code>npm run sign -- ${esc(t.name)} ${esc(want.id)} --w 256</code>.</p>`;
  return { cards, links };
}

/** The first tenant that requires signatures and has a key, showing the shared sample 'hopper'. */
function autoSigned(config: ServiceConfig): { tenant: string; id: string } | null {
  for (const t of config.tenants.values()) if (t.requireSignature && Object.keys(t.keys).length) return { tenant: t.name, id: 'hopper' };
  return null;
}

function cardHtml(c: Card): string {
  return `<figure class="card" data-card>${c.media}<figcaption><b>${esc(c.title)}</b><small>${esc(c.note)}</small><dl class="meta"><dt>variant</dt><dd data-k="variant">…</dd><dt>format</dt><dd data-k="type">…</dd><dt>bytes</dt><dd data-k="bytes">…</dd><dt>cache</dt><dd data-k="cache">…</dd></dl></figcaption></figure>`;
}

const section = (id: string, title: string, intro: string, cards: Card[], after = '') =>
  `<section id="${esc(id)}"><h2>${esc(title)}</h2><p>${intro}</p><div class="grid">${cards.map(cardHtml).join('')}</div>${after}</section>`;

export async function renderDemoPage(opts: DemoPageOptions, nonce: string): Promise<string> {
  const { config } = opts;
  const demo = config.tenants.get(opts.tenant ?? 'demo');
  const parts: string[] = [];
  if (!demo) {
    parts.push(`<p class="warn">No tenant <code>${esc(opts.tenant ?? 'demo')}</code> is configured, so there are no samples to show.</p>`);
  } else {
    const ids = opts.ids ?? DEMO_IDS;
    const code = (s: string) => `<code>${esc(s)}</code>`;
    parts.push(
      section(
        'query',
        'Query form',
        `${code(`/${demo.name}/{id}?w=…&h=…`)}, format negotiated from <code>Accept</code>; ${code('srcset')} with width descriptors and ${code('sizes')}.`,
        ids.map((id) => queryCard(demo, id, id, `?w=${pixels(demo, 1)}&h=${pixels(demo, 1)} · 128w 256w 384w`)),
      ),
    );
    parts.push(
      section(
        'template',
        'Path-template form',
        `${code(`/${demo.name}/{id}/{size}.{ext}`)} in a ${code('<picture>')}: WebP where supported, JPEG otherwise; 1x/2x/3x. Same canonical variant as the query form, so it is usually a cache hit.`,
        ids.map((id) => templateCard(demo, id)),
      ),
    );
    const missing = opts.missingIds ?? DEMO_MISSING_IDS;
    if (demo.fallback === 'generated') {
      parts.push(
        section(
          'fallback',
          'Generated fallback',
          `No original exists for these ids; the tenant's <code>fallback: "generated"</code> draws initials on a colour hashed from the id, encoded and cached like any variant (briefly, so an upload replaces it soon).`,
          missing.map((id) => queryCard(demo, id, id, 'no original · generated')),
        ),
      );
    } else {
      parts.push(`<section id="fallback"><h2>Generated fallback</h2><p>Off for <code>${esc(demo.name)}</code> (<code>fallback: "none"</code>): a missing original is a 404.</p></section>`);
    }
  }
  const faces = opts.faces === undefined ? { tenant: 'faces', ids: DEMO_FACE_IDS } : opts.faces;
  const facesTenant = faces ? config.tenants.get(faces.tenant) : undefined;
  if (faces && facesTenant) {
    parts.push(
      section(
        'faces',
        'Face-aware crops',
        `The same photo cropped square twice: <code>g=center</code> and <code>g=auto</code> (faces, else the most detailed region, else the centre). The focal point is found once per original, on its first face crop, and stored next to its variants.`,
        faces.ids.flatMap((id) => faceCards(facesTenant, id)),
      ),
    );
  }
  const signed = await signedCards(config, opts);
  if (signed)
    parts.push(
      section(
        'signed',
        'Signed tenant',
        'Signed while this page was generated (HMAC-SHA256 over the canonical variant and expiry); the tenant also checks the embedding page.',
        signed.cards,
        signed.links,
      ),
    );

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>avatar-edge demo</title><link rel="icon" href="data:,">
<style nonce="${esc(nonce)}">${STYLE}</style></head>
<body><header><h1>avatar-edge</h1><p>Edge image service for avatars: every URL below resolves to one canonical variant (size snapped to the tenant's breakpoints, format folded from <code>Accept</code>), rendered once with WASM codecs and then served from cache. The details under each image are read from its response headers (<code>X-Variant</code>, <code>Content-Type</code>, <code>Content-Length</code>, <code>X-Cache</code>).</p></header>
<main>${parts.join('\n')}</main>
<script nonce="${esc(nonce)}">${SCRIPT}</script></body></html>`;
}

/** The handler for GET /: a fresh page each time (signed URLs expire), never cached. */
export function createDemoPage(opts: DemoPageOptions): (request: Request) => Promise<Response> {
  return async () => {
    const nonce = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    const html = await renderDemoPage(opts, nonce);
    return new Response(html, {
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'content-security-policy': `default-src 'none'; img-src 'self' data:; connect-src 'self'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
      },
    });
  };
}

const STYLE = `
:root{font:15px/1.45 system-ui,sans-serif;color:#1d2330;background:#f4f5f7}
body{margin:0 auto;max-width:1180px;padding:24px}
h1{margin:0 0 4px;font-size:26px}h2{font-size:18px;margin:28px 0 4px}
header p,section>p{max-width:860px;margin:4px 0 12px;color:#4a5264}
code{font:12.5px ui-monospace,monospace;background:#e6e8ee;padding:1px 4px;border-radius:3px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:12px}
.card{margin:0;background:#fff;border-radius:10px;padding:12px;box-shadow:0 1px 3px #0002;display:flex;flex-direction:column;align-items:center}
.card img{width:128px;height:128px;border-radius:50%;object-fit:cover;background:#dde1e8}
figcaption{width:100%;margin-top:8px;font-size:12px}
figcaption b{display:block;text-align:center;font-size:13px}
figcaption small{display:block;text-align:center;color:#6a7284;overflow-wrap:anywhere}
.meta{display:grid;grid-template-columns:auto 1fr;gap:1px 6px;margin:6px 0 0}
.meta dt{color:#6a7284}.meta dd{margin:0;font:11px ui-monospace,monospace;overflow-wrap:anywhere}
.meta .hit{color:#137333}.meta .miss{color:#b06000}.meta .bad{color:#c5221f}
@media (max-width:480px){.card img{width:96px;height:96px}}`;

// Reads each image's response back. Resource Timing gives the image request's own transfer
// (its Server-Timing `cache` entry and body size); a HEAD gives the headers. fetch() cannot
// send an <img>'s Accept header, so the HEAD says what the service negotiates on: image/webp,
// when this browser decodes WebP.
const SCRIPT = `
(() => {
  const webp = new Promise((ok) => { const i = new Image(); i.onload = () => ok(i.width === 1); i.onerror = () => ok(false);
    i.src = 'data:image/webp;base64,UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA'; });
  const kb = (n) => n < 1024 ? n + ' B' : (n / 1024).toFixed(1) + ' kB';
  async function describe(card) {
    const img = card.querySelector('img');
    const set = (k, v, cls) => { const dd = card.querySelector('[data-k="' + k + '"]'); dd.textContent = v; dd.className = cls || ''; card.dataset[k] = v; };
    if (!img.complete) await new Promise((ok) => { img.addEventListener('load', ok, { once: true }); img.addEventListener('error', ok, { once: true }); });
    const url = img.currentSrc || img.src;
    card.dataset.src = url;
    if (!img.naturalWidth) { set('variant', 'failed to load', 'bad'); card.dataset.state = 'done'; return; }
    const entry = performance.getEntriesByName(url).pop();
    const timing = entry && entry.serverTiming ? entry.serverTiming.find((t) => t.name === 'cache') : undefined;
    let cache = timing ? timing.description : '?';
    if (entry && entry.transferSize === 0 && entry.encodedBodySize > 0) cache = 'browser cache (' + cache + ')';
    try {
      const r = await fetch(url, { method: 'HEAD', cache: 'no-store', headers: { accept: (await webp) ? 'image/webp,*/*;q=0.8' : '*/*' } });
      if (!r.ok) throw new Error('HTTP ' + r.status);
      const bytes = Number(r.headers.get('content-length'));
      set('variant', r.headers.get('x-variant') || '?');
      set('type', r.headers.get('content-type') || '?');
      // Differing sizes would mean the HEAD negotiated another variant than the image got.
      set('bytes', kb(bytes), entry && entry.encodedBodySize && entry.encodedBodySize !== bytes ? 'bad' : '');
      set('cache', cache + ' → ' + (r.headers.get('x-cache') || '?') + ' now', /HIT/.test(cache) ? 'hit' : 'miss');
    } catch (e) { set('variant', String(e.message || e), 'bad'); }
    card.dataset.state = 'done';
  }
  const cards = [...document.querySelectorAll('[data-card]')];
  Promise.all(cards.map(describe)).finally(() => { document.body.dataset.ready = 'true'; });
})();`;
