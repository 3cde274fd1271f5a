/** Child processes for the suites: servers and one-shot measurements, each in a fresh process. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { REPO } from './corpus.js';

export interface Child {
  proc: ChildProcess;
  /** The first JSON line the child printed. */
  ready: Record<string, unknown>;
  stop(): Promise<void>;
}

/**
 * Runs a child and waits for the first JSON line on its stdout: a TypeScript file through
 * tsx, a JavaScript one (a bundle) with plain node.
 */
export async function startChild(script: string, args: string[] = [], env: Record<string, string> = {}, execArgv: string[] = []): Promise<Child> {
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const proc = spawn(process.execPath, [...execArgv, ...loader, script, ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const lines = createInterface({ input: proc.stdout! });
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not report within 120 s`)), 120_000);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before reporting`));
    });
    lines.once('line', (l) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(l) as Record<string, unknown>);
      } catch {
        reject(new Error(`${script} printed ${l}`));
      }
    });
  });
  proc.removeAllListeners('exit');
  return {
    proc,
    ready,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 5000).unref();
      }),
  };
}

/** Runs a child to completion and returns its one JSON line. */
export async function runChild(script: string, args: string[] = [], execArgv: string[] = []): Promise<Record<string, unknown>> {
  const c = await startChild(script, args, {}, execArgv);
  await new Promise<void>((r) => (c.proc.exitCode !== null ? r() : c.proc.once('exit', () => r())));
  return c.ready;
}
