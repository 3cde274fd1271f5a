/**
 * Sources that hold a render thread: a real JPEG with a comment segment carrying the marker
 * the scheduler's test-only `stallForTests` hook looks for (render/scheduler/protocol.ts).
 * The thread then spins, as a hostile decode's single WebAssembly call would, before rendering.
 */
import { STALL_MARKER_FOR_TESTS } from '../../src/render/scheduler/protocol.js';

export const STALL_MARKER = STALL_MARKER_FOR_TESTS;

/** `jpeg` with a COM segment `STALL_MARKER tag` after SOI: distinct bytes (so a distinct source) per tag. */
export function stallingJpeg(jpeg: Uint8Array, tag: string): Uint8Array {
  const text = new TextEncoder().encode(`${STALL_MARKER} ${tag}`);
  const len = text.length + 2;
  const com = new Uint8Array([0xff, 0xfe, len >> 8, len & 0xff, ...text]);
  const out = new Uint8Array(jpeg.length + com.length);
  out.set(jpeg.subarray(0, 2));
  out.set(com, 2);
  out.set(jpeg.subarray(2), 2 + com.length);
  return out;
}
