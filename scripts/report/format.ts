export const pct = (r: number) => `${(r * 100).toFixed(1)} %`;
export const ms = (v: number) => (v >= 100 ? `${v.toFixed(0)} ms` : v >= 10 ? `${v.toFixed(1)} ms` : `${v.toFixed(2)} ms`);
export const int = (n: number) => Math.round(n).toLocaleString('en-US');
export const money = (v: number, currency: string) => `${v.toFixed(2)} ${currency}`;
export function bytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u ? v.toFixed(1) : v} ${units[u]}`;
}
