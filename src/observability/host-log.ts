/**
 * The diagnostic log every host writes to stderr (start-up warnings, failed background work,
 * unhandled errors): `[avatar-edge] <what happened> <the error's message>`. The message only,
 * never the stack or the error object: an error can carry a request's details, and one line
 * per event is what a log pipeline groups. Access log lines are access-log.ts's.
 */
export function hostLog(msg: string, err?: unknown): void {
  console.error(`[avatar-edge] ${msg}`, err instanceof Error ? err.message : (err ?? ''));
}
