/**
 * The Node host's Response. undici's `new Response(bytes)` copies the bytes into a Web
 * ReadableStream, and the adapter then reads that stream back: with it a cached hit served
 * ~2.5× fewer requests per second (`npm run bench -- --only=hits`). The Node host installs this
 * class as the global Response at start-up (installBytesResponse), so the code it runs keeps
 * writing the standard `new Response(body, init)`, as on Deno and Fastly, and no caller knows
 * which host it is on. A Response made from bytes of a plain ArrayBuffer (with a status that
 * has a body) keeps the bytes, and its headers as given: the adapter (http-adapter.ts) writes
 * both to the socket as they are. Everything else about such a Response (body, the readers,
 * bodyUsed) answers from a real undici Response built on first use, so readers in process
 * (tests, middleware) see the standard behaviour, on a copy of the bytes. Any other body is
 * undici's own, untouched.
 */

/** undici's Response, whatever the global is now (a module evaluated again extends the original). */
const ORIGINAL = Symbol.for('avatar-edge.undici-response');
const globals = globalThis as unknown as Record<PropertyKey, unknown>;
globals[ORIGINAL] ??= globalThis.Response;
const WebResponse = globals[ORIGINAL] as typeof Response;

/** Statuses whose Response has no body (`new Response(bytes, { status: 304 })` is a TypeError). */
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);
const FULL = Symbol('full response');
const base = (key: PropertyKey) => Object.getOwnPropertyDescriptor(WebResponse.prototype, key)!;
const baseHeaders = base('headers').get!;

export class BytesResponse extends WebResponse {
  /** The body as given, which the adapter writes to the socket; undefined when undici holds the body. */
  readonly raw: Uint8Array<ArrayBuffer> | undefined;
  #init: HeadersInit | undefined;
  #headers: Headers | undefined;
  #full: Response | undefined;

  constructor(body?: BodyInit | null, init?: ResponseInit) {
    const keep = body instanceof Uint8Array && body.buffer instanceof ArrayBuffer && !NULL_BODY_STATUS.has(init?.status ?? 200);
    // Kept bytes: neither the body nor the headers are copied into the base Response (a copy
    // per hit), and a plain object only becomes a Headers when someone reads `headers`.
    super(keep ? null : body, keep ? { status: init?.status, statusText: init?.statusText } : init);
    this.raw = keep ? (body as Uint8Array<ArrayBuffer>) : undefined;
    this.#init = keep ? init?.headers : undefined;
  }

  override get headers(): Headers {
    if (!this.raw) return baseHeaders.call(this);
    this.#headers ??= this.#init instanceof Headers ? this.#init : new Headers(this.#init);
    return this.#headers;
  }

  /**
   * The headers for `writeHead` of a response that kept its bytes: the plain object given to
   * the constructor, as it is, while nobody has read (and so perhaps changed) `headers`;
   * otherwise a copy of `headers`. Undefined when undici holds the headers.
   */
  headerRecord(): Record<string, string> | undefined {
    if (!this.raw) return undefined;
    const init = this.#init;
    if (!this.#headers && init && !(Symbol.iterator in init)) return init as Record<string, string>;
    return toHeaderRecord(this.headers);
  }

  /** The standard Response of the kept bytes, made on first use (its body is a copy); `made`: only if made already. */
  [FULL](made?: 'made'): Response | undefined {
    if (made) return this.#full;
    this.#full ??= new WebResponse(this.raw!, { status: this.status, statusText: this.statusText, headers: this.headers });
    return this.#full;
  }

  override clone(): Response {
    if (!this.raw) return base('clone').value.call(this);
    const full = this.#full;
    if (full && (full.bodyUsed || full.body?.locked)) throw new TypeError('Response.clone: Body has already been consumed.');
    return new BytesResponse(this.raw, { status: this.status, statusText: this.statusText, headers: new Headers(this.headers) });
  }
}

// The body and its readers (whatever this Node version's Response has): from the standard
// Response of the kept bytes, else undici's own.
const OWN = new Set<PropertyKey>(['constructor', 'headers', 'clone', 'status', 'statusText', 'ok', 'type', 'url', 'redirected', Symbol.toStringTag]);
for (const key of Reflect.ownKeys(WebResponse.prototype)) {
  if (OWN.has(key)) continue;
  const d = base(key);
  const full = (self: BytesResponse) => self[FULL]() as unknown as Record<PropertyKey, unknown>;
  if (typeof d.value === 'function') {
    const own = d.value as (...a: unknown[]) => unknown;
    Object.defineProperty(BytesResponse.prototype, key, {
      configurable: true,
      writable: true,
      value(this: BytesResponse, ...args: unknown[]) {
        if (!this.raw) return Reflect.apply(own, this, args);
        const response = full(this);
        return Reflect.apply(response[key] as (...a: unknown[]) => unknown, response, args);
      },
    });
  } else if (d.get) {
    const own = d.get;
    Object.defineProperty(BytesResponse.prototype, key, {
      configurable: true,
      get(this: BytesResponse) {
        if (!this.raw) return own.call(this);
        // Unread kept bytes are unused, without building a Response to say so.
        if (key === 'bodyUsed') return this[FULL]('made')?.bodyUsed ?? false;
        return full(this)[key];
      },
    });
  }
}

/**
 * Makes BytesResponse the global Response (once per process; the Node host calls it at
 * start-up). `instanceof Response` holds for both kinds, and Response.json() and the other
 * static methods are undici's.
 */
export function installBytesResponse(): void {
  globalThis.Response = BytesResponse as typeof Response;
}

/** Web Headers as the plain object node:http's writeHead takes (names lowercase, repeats joined). */
export function toHeaderRecord(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((v, k) => (out[k] = v));
  return out;
}
