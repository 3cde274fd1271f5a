/**
 * The Request the Node adapter hands the app for GET and HEAD. undici's `new Request` (URL
 * parse, AbortSignal, a copy of the headers) cost about as much per cached hit as the whole
 * image pipeline did (`npm run bench -- --only=hits`), and the routes these methods reach read
 * only `method`, `url` and a few headers. So those three are plain properties (the headers
 * built from the raw list on first read), and every other Request member (signal, clone, the
 * body readers...) builds the real undici Request on first use and answers from it. It is an
 * `instanceof Request`; GET and HEAD carry no body, as the adapter has always treated them.
 */
const FULL = Symbol('full request');

/** Node's raw header list (name, value, name, value, ...) as Web Headers, repeats appended. */
export function headersFromRaw(raw: readonly string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  return headers;
}

class BodilessRequest {
  readonly method: 'GET' | 'HEAD';
  /** Serialized by the URL parser, exactly as `new Request(url).url` would be. */
  readonly url: string;
  #rawHeaders: readonly string[];
  #headers: Headers | undefined;
  #full: Request | undefined;

  constructor(method: 'GET' | 'HEAD', url: string, rawHeaders: readonly string[]) {
    this.method = method;
    this.url = new URL(url).href;
    this.#rawHeaders = rawHeaders;
  }

  get headers(): Headers {
    this.#headers ??= headersFromRaw(this.#rawHeaders);
    return this.#headers;
  }

  [FULL](): Request {
    this.#full ??= new Request(this.url, { method: this.method, headers: this.headers });
    return this.#full;
  }
}

// Everything else Request has (getters, methods, symbol-keyed ones like util.inspect's) is
// answered by the real Request, whatever this Node version's Request has.
for (const key of Reflect.ownKeys(Request.prototype)) {
  if (key === 'constructor' || key === 'method' || key === 'url' || key === 'headers' || key === Symbol.toStringTag) continue;
  const d = Object.getOwnPropertyDescriptor(Request.prototype, key)!;
  const full = (self: BodilessRequest) => self[FULL]() as unknown as Record<PropertyKey, unknown>;
  if (typeof d.value === 'function') {
    Object.defineProperty(BodilessRequest.prototype, key, {
      configurable: true,
      writable: true,
      value(this: BodilessRequest, ...args: unknown[]) {
        const request = full(this);
        return Reflect.apply(request[key] as (...a: unknown[]) => unknown, request, args);
      },
    });
  } else if (d.get) {
    Object.defineProperty(BodilessRequest.prototype, key, {
      configurable: true,
      get(this: BodilessRequest) {
        return full(this)[key];
      },
    });
  }
}
Object.setPrototypeOf(BodilessRequest.prototype, Request.prototype);

/** A GET or HEAD request from its absolute URL and Node's raw header list (name, value, ...). */
export function bodilessRequest(method: 'GET' | 'HEAD', url: string, rawHeaders: readonly string[]): Request {
  return new BodilessRequest(method, url, rawHeaders) as unknown as Request;
}
