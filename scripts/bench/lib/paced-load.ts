/**
 * Open-loop load at a fixed offered rate, for latency that compares servers rather than queue
 * depth. autocannon's `overallRate` is no use for that: each connection sends back to back
 * until it has made its share of the second, then waits for the next second, so the server
 * sees a saturating burst at the start of every second. Here request i is due at
 * start + i / rate; a 1 ms timer releases whatever is due onto idle keep-alive connections
 * (so at 5,000 req/s about five leave together). Latency runs from the send, or from the due
 * time when no connection was free (a stalled server is charged for the requests it held up:
 * no coordinated omission), to the last byte of the response, in fractional milliseconds. An
 * optional warm-up at the same rate on the same connections goes unrecorded.
 */
import { connect, type Socket } from 'node:net';
import { runChild } from './child.js';

export interface PacedOptions {
  url: string;
  path: string;
  /** Offered requests per second. */
  rate: number;
  /** Seconds of sending, recorded. */
  duration: number;
  /** Seconds of sending first, on the same connections, not recorded (a server that sat idle warms up). */
  warmup?: number;
  /** Keep-alive connections available (more than the rate ever needs in flight). */
  connections: number;
}

export interface PacedResult {
  /** Requests due in the recorded part of the run (rate × duration). */
  offered: number;
  completed: number;
  non2xx: number;
  errors: number;
  /** Responses received, the warm-up's included: what the server did during the whole run. */
  answered: number;
  /** Completed requests per second of sending. */
  rps: number;
  /** Seconds of sending. */
  seconds: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  /** Every completed request's latency (ms), ascending: for merging runs (mergePaced). */
  latencies: Float64Array;
}

interface Conn {
  socket: Socket;
  busy: boolean;
  /** performance.now() the current request's latency counts from. */
  since: number;
  /** Whether the current request is past the warm-up. */
  recorded: boolean;
  buf: Buffer | null;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** Bytes of a complete response at the front of `buf` and its status, or null if incomplete. */
function parseResponse(buf: Buffer): { length: number; status: number } | null {
  const end = buf.indexOf(HEADER_END);
  if (end < 0) return null;
  const head = buf.toString('latin1', 0, end);
  const status = Number(head.slice(9, 12));
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (!m) throw new Error(`paced-load: a response without Content-Length (${head.split('\r\n')[0]})`);
  const length = end + 4 + Number(m[1]);
  return buf.length >= length ? { length, status } : null;
}

/**
 * Runs the load from a fresh process (children/paced-client.ts). In the bench's own process
 * the generator paused for V8's full collections of everything the suite had kept (autocannon's
 * runs, earlier results): 16 mark-compacts of up to 8 ms in 20 s of fixed-rate rounds, each
 * charged to whichever server was being measured as a latency spike (p99 ~6 ms even for bare
 * node:http, 1–2.5 ms from a fresh process).
 */
export async function pacedLoad(o: PacedOptions): Promise<PacedResult> {
  const r = (await runChild('scripts/bench/children/paced-client.ts', [JSON.stringify(o)])) as unknown as Omit<PacedResult, 'latencies'> & { latencies: number[] };
  return { ...r, latencies: Float64Array.from(r.latencies) };
}

/** The load itself, in this process: pacedLoad runs it in a fresh one. */
export async function pacedLoadHere(o: PacedOptions): Promise<PacedResult> {
  const { hostname, port } = new URL(o.url);
  const request = Buffer.from(`GET ${o.path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: */*\r\n\r\n`);
  const warm = Math.round(o.rate * (o.warmup ?? 0));
  const offered = Math.round(o.rate * o.duration);
  const total = warm + offered;
  const latencies = new Float64Array(offered);
  let completed = 0;
  let done = 0; // answered or failed, warm-up included
  let answered = 0;
  let non2xx = 0;
  const waiting: number[] = []; // indexes of requests that found no idle connection
  let start = 0;
  const due = (i: number) => start + (i * 1000) / o.rate;
  const idle: Conn[] = [];
  let onDrained: (() => void) | undefined;

  const conns = await Promise.all(
    Array.from(
      { length: o.connections },
      () =>
        new Promise<Conn>((resolve, reject) => {
          const socket = connect({ host: hostname, port: Number(port), noDelay: true }, () => resolve(c));
          const c: Conn = { socket, busy: false, since: 0, recorded: false, buf: null };
          socket.once('error', reject);
        }),
    ),
  );

  const send = (c: Conn, i: number, since: number) => {
    c.busy = true;
    c.since = since;
    c.recorded = i >= warm;
    c.socket.write(request);
  };

  for (const c of conns) {
    c.socket.removeAllListeners('error');
    c.socket.on('error', () => {
      if (c.busy) done++;
      c.busy = false;
    });
    c.socket.on('data', (chunk: Buffer) => {
      c.buf = c.buf ? Buffer.concat([c.buf, chunk]) : chunk;
      const r = parseResponse(c.buf);
      if (!r) return;
      const now = performance.now();
      if (c.recorded) {
        latencies[completed++] = now - c.since;
        if (r.status < 200 || r.status > 299) non2xx++;
      }
      done++;
      answered++;
      c.buf = r.length < c.buf.length ? c.buf.subarray(r.length) : null;
      c.busy = false;
      const next = waiting.shift();
      if (next !== undefined) send(c, next, due(next));
      else idle.push(c);
      if (done >= total) onDrained?.();
    });
    idle.push(c);
  }

  start = performance.now();
  await new Promise<void>((resolve) => {
    let next = 0;
    const tick = () => {
      const now = performance.now();
      for (; next < total && due(next) <= now; next++) {
        const c = idle.pop();
        if (c) send(c, next, now);
        else waiting.push(next);
      }
      if (next < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  const sendingSeconds = (performance.now() - due(warm)) / 1000;
  // The stragglers: up to 10 s more, then whatever is still out counts as an error.
  if (done < total) {
    await new Promise<void>((resolve) => {
      onDrained = resolve;
      setTimeout(resolve, 10_000).unref();
    });
  }
  const errors = offered - completed;
  for (const c of conns) c.socket.destroy();

  return summarize({ offered, completed, answered, non2xx, errors, seconds: sendingSeconds, latencies: latencies.subarray(0, completed).sort() });
}

function summarize(r: { offered: number; completed: number; answered: number; non2xx: number; errors: number; seconds: number; latencies: Float64Array }): PacedResult {
  const { latencies: sorted, completed } = r;
  const q = (p: number) => (completed ? sorted[Math.min(completed - 1, Math.ceil(p * completed) - 1)]! : NaN);
  return {
    offered: r.offered,
    completed,
    answered: r.answered,
    non2xx: r.non2xx,
    errors: r.errors,
    rps: completed / r.seconds,
    seconds: r.seconds,
    p50: q(0.5),
    p99: q(0.99),
    p999: q(0.999),
    max: q(1),
    latencies: sorted,
  };
}

/** Several runs against one server as one: percentiles over all their requests. */
export function mergePaced(runs: readonly PacedResult[]): PacedResult {
  const latencies = new Float64Array(runs.reduce((a, r) => a + r.latencies.length, 0));
  let at = 0;
  for (const r of runs) latencies.set(r.latencies, (at += r.latencies.length) - r.latencies.length);
  const add = (f: (r: PacedResult) => number) => runs.reduce((a, r) => a + f(r), 0);
  return summarize({
    offered: add((r) => r.offered),
    completed: add((r) => r.completed),
    answered: add((r) => r.answered),
    non2xx: add((r) => r.non2xx),
    errors: add((r) => r.errors),
    seconds: add((r) => r.seconds),
    latencies: latencies.sort(),
  });
}
