/**
 * SHA-256 through Web Crypto, which every host has (Node, Deno, Fastly): the one place that
 * turns bytes into a digest or its hex form (ETags, the render scheduler's source keys, the
 * codec manifest's pins, S3 payload hashes, migration checks).
 */
export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

/** Lower-case hex, two digits a byte. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return toHex(await sha256(bytes));
}
