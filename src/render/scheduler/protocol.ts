/**
 * The messages between the scheduler (pool.ts) and a render thread (serve-thread.ts). Plain
 * structured-cloneable data, so the same messages cross node:worker_threads, Web Workers and
 * the in-process thread alike.
 */
import type { Limits } from '../../core/config/service-config.js';
import type { RenderTimings } from '../../core/ports.js';
import type { Variant } from '../../core/variant.js';
import type { CodecModules } from '../codec-modules.js';
import type { Master } from '../master.js';

export interface ThreadInit {
  modules: CodecModules;
  /** Source limits, with the scheduler's memory budget as `renderMemoryBytes` (decode-source.ts checks it). */
  limits?: Pick<Limits, 'maxSourceBytes' | 'maxSourcePixels'> & Partial<Pick<Limits, 'renderMemoryBytes'>>;
  /**
   * Tests only: a source containing `marker` (e.g. in a JPEG comment) holds its thread for `ms`
   * before rendering, synchronously, as a hostile decode's single WebAssembly call does.
   */
  stallForTests?: { marker: string; ms: number };
}

/** What a source carries (e.g. in a JPEG comment) to be stalled by `stallForTests`. */
export const STALL_MARKER_FOR_TESTS = 'avatar-edge-test-stall';

/** A master's pixels cross threads as a plain (or shared) buffer plus its facts. */
export interface MasterMessage {
  data: Uint8ClampedArray;
  width: number;
  height: number;
  factor: number;
  info: Master['info'];
}

/**
 * Render from `source` (returning what was decoded as a master when asked; at a full master's
 * scale with `atMasterScale`, jsquash-renderer.ts), or from a kept `master`.
 */
export type RenderJob = { id: number; variant: Variant; timeoutMs: number } & (
  | { source: Uint8Array; keepMaster: boolean; atMasterScale?: boolean }
  | { master: MasterMessage }
);

export type ThreadRequest = { init: ThreadInit } | { job: RenderJob };

export type JobReply =
  | { id: number; ok: true; body: Uint8Array; width: number; height: number; timings: RenderTimings; master?: MasterMessage }
  | { id: number; ok: false; error: { status?: number; code?: string; message: string; headers?: Record<string, string>; cause?: string } };

export type ThreadReply = { ready: true } | { ready: false; message: string } | JobReply;
