import { describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../src/core/config/service-config.js';
import { createDemoPage, esc, renderDemoPage } from '../../src/http/demo-page.js';

const KEY = 'page-test-key-never-shown';
const config = loadServiceConfig({
  tenants: {
    demo: { fallback: 'generated' },
    secure: { requireSignature: true, keys: { k1: KEY }, allowedReferers: ['example.com'] },
  },
});

describe('demo page', () => {
  it('escapes what it interpolates', async () => {
    expect(esc(`<a href="x" title='y'>&`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;');
    const html = await renderDemoPage({ config, ids: ['x"><script>alert(1)</script>'], missingIds: [] }, 'n0nce');
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('alt="x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(html.match(/<script\b/g)).toHaveLength(1);
  });

  it('offers 1x/2x/3x in both URL forms, with true width descriptors and sizes', async () => {
    const html = await renderDemoPage({ config, ids: ['hopper'], missingIds: ['ada-lovelace'] }, 'n');
    expect(html).toContain('srcset="/demo/hopper?w=128&amp;h=128 128w, /demo/hopper?w=256&amp;h=256 256w, /demo/hopper?w=384&amp;h=384 384w" sizes="(max-width: 480px) 96px, 128px"');
    expect(html).toContain('<source type="image/webp" srcset="/demo/hopper/128.webp 1x, /demo/hopper/256.webp 2x, /demo/hopper/384.webp 3x">');
    expect(html).toContain('src="/demo/ada-lovelace?w=128&amp;h=128"');
  });

  it('signs the example server-side at page time, without ever showing the key', async () => {
    const now = Date.UTC(2026, 0, 1);
    const html = await renderDemoPage({ config, ids: [], now: () => now }, 'n');
    const exp = now / 1000 + 3600;
    expect(html).toMatch(new RegExp(`/secure/hopper\\?fit=cover&amp;h=128&amp;q=75&amp;w=128&amp;exp=${exp}&amp;kid=k1&amp;sig=[A-Za-z0-9_-]{43} 1x`));
    expect(html).toMatch(/\/secure\/hopper\/384\.webp\?fit=cover&amp;q=75&amp;exp=\d+&amp;kid=k1&amp;sig=[A-Za-z0-9_-]{43} 3x/);
    expect(html).not.toContain(KEY);
  });

  it('leaves out what the configuration does not have', async () => {
    const plain = loadServiceConfig({ tenants: { demo: {} } });
    const html = await renderDemoPage({ config: plain, ids: ['hopper'] }, 'n');
    expect(html).toContain('(<code>fallback: "none"</code>): a missing original is a 404');
    expect(html).not.toContain('id="signed"');
    expect(await renderDemoPage({ config: plain, tenant: 'nope' }, 'n')).toContain('No tenant <code>nope</code>');
  });

  it('is never cached, and only its own nonce-bearing script and style run', async () => {
    const r = await createDemoPage({ config })(new Request('http://localhost/'));
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(r.headers.get('cache-control')).toBe('no-store');
    const nonce = /script-src 'nonce-([^']+)'/.exec(r.headers.get('content-security-policy')!)![1]!;
    const html = await r.text();
    expect(html).toContain(`<script nonce="${esc(nonce)}">`);
    expect(html).toContain(`<style nonce="${esc(nonce)}">`);
    const again = await createDemoPage({ config })(new Request('http://localhost/'));
    expect(again.headers.get('content-security-policy')).not.toContain(nonce);
  });
});
