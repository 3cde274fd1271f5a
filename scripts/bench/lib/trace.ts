/**
 * A synthetic access log for avatars: Zipf popularity over many images, and the junk real
 * traffic carries (tracking params, cache busters, reordered and upper-cased params, arbitrary
 * widths and dprs, both URL forms, the Accept headers of real browsers).
 */
import { rng, zipf } from './stats.js';

export interface TraceRequest {
  url: string;
  accept: string;
}

export interface TraceOptions {
  requests: number;
  images: number;
  seed?: number;
  tenant?: string;
}

const ACCEPTS = [
  'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8', // Chrome, Edge
  'image/avif,image/webp,*/*', // Firefox
  'image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5', // Safari 17
  'image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5', // old Safari
  '*/*', // curl, bots, apps
];
const ACCEPT_SHARE = [0.62, 0.08, 0.2, 0.03, 0.07];
// Avatar slots seen on real pages (CSS px), and the odd computed width.
const SLOTS = [24, 32, 36, 40, 48, 56, 64, 72, 80, 96, 100, 120, 128, 150, 160, 200, 240, 256, 300, 320, 400, 512];
const DPRS = ['1', '1', '1', '2', '2', '3', '1.5', '2.625'];
const JUNK = ['utm_source=newsletter', 'utm_medium=email', 'utm_campaign=spring', 'fbclid=IwAR3x', 'gclid=Cj0KCQ', 'ref=profile', 'ab=b'];

export function generateTrace(o: TraceOptions): TraceRequest[] {
  const random = rng(o.seed ?? 42);
  const tenant = o.tenant ?? 'demo';
  const pickImage = zipf(o.images, 1.1, random);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const pickAccept = () => {
    let u = random();
    for (let i = 0; i < ACCEPTS.length; i++) if ((u -= ACCEPT_SHARE[i]!) <= 0) return ACCEPTS[i]!;
    return ACCEPTS[0]!;
  };
  const out: TraceRequest[] = [];
  for (let n = 0; n < o.requests; n++) {
    const id = `u-${pickImage()}`;
    const accept = pickAccept();
    // Each image has a few slots it is shown in; an arbitrary width now and then.
    const w = random() < 0.15 ? 16 + Math.floor(random() * 600) : pick(SLOTS);
    if (random() < 0.25) {
      // Path-template form, sometimes with a cache buster.
      const ext = pick(['webp', 'webp', 'jpg', 'png']);
      const size = pick([32, 48, 64, 96, 128, 256]);
      out.push({ url: `/${tenant}/${id}/${size}.${ext}${random() < 0.2 ? `?cb=${Math.floor(random() * 1e9)}` : ''}`, accept });
      continue;
    }
    const params: string[] = [`w=${w}`];
    if (random() < 0.5) params.push(`h=${w}`);
    if (random() < 0.3) params.push(`dpr=${pick(DPRS)}`);
    const f = random();
    if (f < 0.15) params.push('fmt=webp');
    else if (f < 0.22) params.push(pick(['fmt=jpeg', 'fmt=jpg', 'FMT=JPEG']));
    else if (f < 0.25) params.push('fmt=png');
    else if (f < 0.45) params.push('fmt=auto');
    if (random() < 0.2) params.push(`q=${pick(['75', '80', '70', '90', '60'])}`);
    if (random() < 0.1) params.push(`fit=${pick(['cover', 'COVER', 'contain'])}`);
    if (random() < 0.4) params.push(pick(JUNK));
    if (random() < 0.15) params.push(`_=${1700000000000 + Math.floor(random() * 1e9)}`);
    if (random() < 0.5) params.reverse();
    // biome-ignore lint/suspicious/noDuplicateElseIf: two independent draws (reverse half the time, else sort half of the rest)
    else if (random() < 0.5) params.sort();
    out.push({ url: `/${tenant}/${id}?${params.join('&')}`, accept });
  }
  return out;
}
