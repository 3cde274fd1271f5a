/**
 * The messages between the scheduler (pool.ts) and a render thread (serve-thread.ts). Plain
 * structured-cloneable data, so the same messages cross node:worker_threads, Web Workers and
 * the in-process thread alike.
 */
import type { Limits } from '../../core/config/service-config.js';
import type { FocalRecord } from '../../core/focal-point.js';
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
  /**
   * Run every codec once before saying ready (warm-up.ts; default true). The scheduler's first
   * threads do, so a wrong binary fails the boot; replacements do not: the binaries passed
   * already, and the warm-up cost a replacement ~300 ms of CPU on top of ~350 ms to boot,
   * paid on every recycle (after each large decode), while the thread's first job warms what
   * it uses anyway.
   */
  warmUp?: boolean;
}

/** What a source carries (e.g. in a JPEG comment) to be stalled by `stallForTests`. */
export const STALL_MARKER_FOR_TESTS = 'avatar-edge-test-stall';

/** A master's pixels cross threads as a plain buffer (moved to the scheduler, copied to a thread) plus its facts. */
export interface MasterMessage {
  data: Uint8ClampedArray;
  width: number;
  height: number;
  factor: number;
  info: Master['info'];
}

/**
 * Render from `source` (returning what was decoded as a master when asked; at a full master's
 * scale with `atMasterScale`, jsquash-renderer.ts), or from a kept `master`. A face/auto cover
 * crop's `variant.focal` is the original's focal record when the caller has one; without it
 * the thread finds it (and sends it back as `focal`).
 */
export type RenderJob = { id: number; variant: Variant; timeoutMs: number } & ({ source: Uint8Array; keepMaster: boolean; atMasterScale?: boolean } | { master: MasterMessage });

export type ThreadRequest = { init: ThreadInit } | { job: RenderJob };

export type JobReply =
  | { id: number; ok: true; body: Uint8Array; width: number; height: number; timings: RenderTimings; master?: MasterMessage; focal?: FocalRecord }
  | { id: number; ok: false; error: { status?: number; code?: string; message: string; headers?: Record<string, string>; cause?: string } };

export type ThreadReply = { ready: true } | { ready: false; message: string } | JobReply;
