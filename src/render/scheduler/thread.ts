/**
 * What the scheduler needs of a render thread, whatever runs it: node:worker_threads (Node
 * host), a Web Worker (Deno host) or the calling thread itself (inline-thread.ts, where no
 * Worker exists). A thread renders one job at a time; `terminate` is how a render past its
 * deadline is stopped.
 */
import type { ThreadReply, ThreadRequest } from './protocol.js';

export interface RenderThread {
  /** Structured clone; `transfer` moves buffers instead of copying them. */
  post(message: ThreadRequest, transfer?: Transferable[]): void;
  onMessage(listener: (message: ThreadReply) => void): void;
  /** The thread died (an uncaught error, or it exited without being terminated). */
  onFailure(listener: (error: Error) => void): void;
  terminate(): Promise<void>;
  /** Runs in the scheduler's own thread: its messages are not copied, so nothing need be shared. */
  readonly inProcess?: boolean;
}

export type StartThread = () => RenderThread;
