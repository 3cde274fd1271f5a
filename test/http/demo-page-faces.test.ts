import { describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../src/core/config/service-config.js';
import { DEMO_FACE_IDS, renderDemoPage } from '../../src/http/demo-page.js';
import { startTestHost } from '../support/node-host.js';

describe('demo page: centre and face crops side by side', () => {
  it('shows each faces sample with g=center next to g=auto, only when the tenant exists', async () => {
    const config = loadServiceConfig({ tenants: { demo: {}, faces: { gravity: 'auto' } } });
    const html = await renderDemoPage({ config, ids: [] }, 'n');
    expect(html).toContain('id="faces"');
    for (const id of DEMO_FACE_IDS) {
      const centre = html.indexOf(`src="/faces/${id}?w=128&amp;h=128&amp;g=center"`);
      const face = html.indexOf(`src="/faces/${id}?w=128&amp;h=128&amp;g=auto"`);
      expect(centre).toBeGreaterThan(0);
      expect(face).toBeGreaterThan(centre);
    }
    const plain = await renderDemoPage({ config: loadServiceConfig({ tenants: { demo: {} } }), ids: [] }, 'n');
    expect(plain).not.toContain('id="faces"');
  });

  it('every face-crop image on the page is served by the local host as a 128 px square', async () => {
    const host = await startTestHost({ tenants: { demo: {}, faces: { gravity: 'auto' } } });
    try {
      const html = await (await host.get('/')).text();
      const srcs = [...html.matchAll(/src="(\/faces\/[^"]+)"/g)].map((m) => m[1]!.replaceAll('&amp;', '&'));
      expect(srcs).toHaveLength(DEMO_FACE_IDS.length * 2);
      for (const src of srcs) {
        const r = await host.get(src, { accept: 'image/webp' });
        expect(r.status, src).toBe(200);
        expect(r.headers.get('x-variant')).toMatch(/^faces\/[a-z-]+\/128x128-cover(-gauto)?-q75\.webp$/);
      }
    } finally {
      await host.stop();
    }
  }, 120_000);
});
