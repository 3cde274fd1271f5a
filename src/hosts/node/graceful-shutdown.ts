import type { Server } from 'node:http';

export interface DrainOptions {
  deadlineMs: number;
  /** Requests being handled now, for the log line. */
  inFlight: () => number;
  log: (msg: string) => void;
}

/**
 * Stops accepting connections, lets in-flight requests finish, and closes keep-alive
 * connections as they fall idle. Past the deadline the remaining connections are cut.
 */
export function drainServer(server: Server, opts: DrainOptions): Promise<'drained' | 'deadline'> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (how: 'drained' | 'deadline') => {
      if (settled) return;
      settled = true;
      clearInterval(idle);
      clearTimeout(deadline);
      resolve(how);
    };
    // close() stops listening at once; its callback runs when the last connection has ended.
    server.close(() => finish('drained'));
    server.closeIdleConnections();
    // A keep-alive connection whose request just finished is idle now: close it, or close() waits
    // for the client's keep-alive timeout.
    const idle = setInterval(() => server.closeIdleConnections(), 50);
    const deadline = setTimeout(() => {
      opts.log(`shutdown deadline of ${opts.deadlineMs} ms passed with ${opts.inFlight()} request(s) in flight: closing their connections`);
      server.closeAllConnections();
      finish('deadline');
    }, opts.deadlineMs);
  });
}

export interface ShutdownOptions extends DrainOptions {
  server: Server;
  /** Called first: /readyz turns 503 so load balancers stop sending requests. */
  onDraining: () => void;
  /** Everything else to close once the server is drained (render threads, metrics listener). */
  close: () => Promise<void>;
  exit?: (code: number) => void;
}

/** SIGTERM and SIGINT: drain, close, exit 0 (1 when the deadline cut requests off). */
export function installGracefulShutdown(opts: ShutdownOptions): void {
  let started = false;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const onSignal = (signal: NodeJS.Signals) => {
    if (started) return;
    started = true;
    opts.onDraining();
    const drained = drainServer(opts.server, opts);
    // After drainServer: the listener is closed by the time this line is out.
    opts.log(`${signal}: stopped accepting; draining ${opts.inFlight()} in-flight request(s), deadline ${opts.deadlineMs} ms`);
    void drained
      .then(async (how) => {
        await opts.close();
        opts.log(how === 'drained' ? 'drained: exiting' : 'exiting after the deadline');
        exit(how === 'drained' ? 0 : 1);
      })
      .catch((err) => {
        opts.log(`shutdown failed: ${err instanceof Error ? err.message : String(err)}`);
        exit(1);
      });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
