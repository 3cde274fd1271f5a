/**
 * SSIM on 8-bit grayscale (Wang et al. 2004 constants, 8×8 windows every 4 pixels): the
 * similarity score printed next to every render time, so speed is never bought with quality.
 */
export function ssim(a: Uint8Array, b: Uint8Array, width: number, height: number): number {
  if (a.length !== width * height || b.length !== width * height) throw new Error('ssim: size mismatch');
  const C1 = (0.01 * 255) ** 2;
  const C2 = (0.03 * 255) ** 2;
  const win = Math.min(8, width, height);
  const step = Math.max(1, win >> 1);
  const n = win * win;
  let total = 0;
  let count = 0;
  for (let y = 0; y + win <= height; y += step) {
    for (let x = 0; x + win <= width; x += step) {
      let sa = 0;
      let sb = 0;
      let saa = 0;
      let sbb = 0;
      let sab = 0;
      for (let j = 0; j < win; j++) {
        let i = (y + j) * width + x;
        for (let k = 0; k < win; k++, i++) {
          const va = a[i]!;
          const vb = b[i]!;
          sa += va;
          sb += vb;
          saa += va * va;
          sbb += vb * vb;
          sab += va * vb;
        }
      }
      const ma = sa / n;
      const mb = sb / n;
      const va = saa / n - ma * ma;
      const vb = sbb / n - mb * mb;
      const cov = sab / n - ma * mb;
      total += ((2 * ma * mb + C1) * (2 * cov + C2)) / ((ma * ma + mb * mb + C1) * (va + vb + C2));
      count++;
    }
  }
  return total / count;
}
