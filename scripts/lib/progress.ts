/**
 * Progress for long CLI runs, on stderr so stdout keeps only the report: a redrawn bar on a
 * terminal, plain lines otherwise (CI logs, pipes), at most one every `everyMs` or per 10 %.
 */
export interface ProgressSink {
  write(text: string): void;
  /** A terminal: redraw one line in place. */
  isTTY?: boolean;
  /** Terminal width, for the bar. */
  columns?: number;
}

export interface Progress {
  /** `done` items of `total` finished; `detail` is a short summary ("12 rendered, 0 failed"). */
  update(done: number, detail?: string): void;
  /** Final state; ends the bar's line. */
  finish(done: number, detail?: string): void;
}

export function createProgress(sink: ProgressSink, label: string, total: number, opts: { everyMs?: number; now?: () => number } = {}): Progress {
  const now = opts.now ?? (() => Date.now());
  const everyMs = opts.everyMs ?? (sink.isTTY ? 100 : 5000);
  const started = now();
  let lastAt = -Infinity;
  let lastTenth = -1;
  let last = '';

  const pct = (done: number) => (total > 0 ? Math.floor((done / total) * 100) : 100);
  const elapsed = () => `${((now() - started) / 1000).toFixed(1)}s`;

  function draw(done: number, detail: string | undefined, final: boolean): void {
    last = `${done} ${detail ?? ''}`;
    if (sink.isTTY) {
      const text = `${label} ${done}/${total} ${String(pct(done)).padStart(3)}%${detail ? ` · ${detail}` : ''} · ${elapsed()}`;
      const width = Math.max(10, Math.min(40, (sink.columns ?? 80) - text.length - 4));
      const filled = total > 0 ? Math.round((done / total) * width) : width;
      sink.write(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}${final ? '\n' : ''}`);
      return;
    }
    sink.write(`${label}: ${done}/${total} (${pct(done)}%)${detail ? ` ${detail}` : ''} ${elapsed()}\n`);
  }

  return {
    update(done, detail) {
      const t = now();
      const tenth = Math.floor(pct(done) / 10);
      // Plain lines: on time, or each time another 10 % is done, so short runs still show steps.
      if (t - lastAt < everyMs && (sink.isTTY || tenth === lastTenth)) return;
      lastAt = t;
      lastTenth = tenth;
      draw(done, detail, false);
    },
    finish(done, detail) {
      // Plain lines: the last one already says it, unless something changed since.
      if (sink.isTTY || last !== `${done} ${detail ?? ''}`) draw(done, detail, true);
    },
  };
}
