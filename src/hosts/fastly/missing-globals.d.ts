/**
 * Types only, for `npm run typecheck:fastly`: shared code (storage/s3-store.ts) names these
 * Web globals, which Fastly's runtime does not have, and guards every use with
 * `typeof AbortController === 'undefined'` (backend timeouts bound requests there instead).
 * Declared as they exist elsewhere so that guarded code type-checks against Fastly's lib.
 */
interface AbortSignal {
  readonly aborted: boolean;
}
declare var AbortSignal: { timeout?(ms: number): AbortSignal };
declare var AbortController: { new (): { readonly signal: AbortSignal; abort(reason?: unknown): void } };
declare var DOMException: { new (message?: string, name?: string): Error };
