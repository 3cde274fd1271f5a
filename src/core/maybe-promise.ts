/**
 * A value that is either in hand or still coming. The edge's cache HIT path passes values in
 * hand straight on instead of awaiting them: under js-compute every `await` and every async
 * function's return is a turn of the event loop that the request pays vCPU for, and a warm hit
 * has its settings, its resolved URL and its Core Cache entry in hand (docs/fastly.md, "CPU per
 * request"). Anything that does have to wait stays a Promise.
 */
export type MaybePromise<T> = T | Promise<T>;

/** True for a Promise (or any thenable), false for a value in hand. */
export function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}

/** `next(value)`, at once when the value is in hand, else when it comes. */
export function andThen<T, U>(value: MaybePromise<T>, next: (v: T) => MaybePromise<U>): MaybePromise<U> {
  return isPromise(value) ? value.then(next) : next(value);
}
