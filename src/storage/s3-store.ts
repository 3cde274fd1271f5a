import { AwsClient } from 'aws4fetch';
import { ConfigError } from '../core/config/service-config.js';
import type { DeleteManyResult, ListPage, ObjectInfo, PutOptions } from '../core/ports.js';
import { sha256, sha256Hex, toHex } from '../core/sha256.js';
import { type ConditionalObjectStore, type GetOptions, type GetResult, applyGetOptions, assertValidRange } from './get-options.js';
import { StorageError } from './storage-error.js';
import { escapeXmlText, parseDeleteResult, parseListObjectsV2, parseS3Error } from './s3-xml.js';
import { type S3Location, bucketUrl, defaultPathStyle, isIpOrLocalhost, objectUrl } from './s3-url.js';

/**
 * An S3-compatible object store (AWS S3, Cloudflare R2, s3rver...) over Web `fetch` with
 * SigV4 from aws4fetch, so the same code runs on Fastly, Deno and Node. No retries here:
 * a failing request is reported as a StorageError and the failover store decides.
 */

export type FetchFn = (request: Request) => Promise<Response>;

export interface S3Config {
  /** `https://<ACCOUNT_ID>.r2.cloudflarestorage.com`, `https://s3.us-east-1.amazonaws.com`, `http://127.0.0.1:9000`. */
  endpoint: string;
  /** R2 uses `auto`. */
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** `host/bucket/key` instead of `bucket.host/key`. Defaults to true for R2, IP and localhost endpoints, false otherwise (AWS). */
  forcePathStyle?: boolean;
  /** Bound on each whole request, body included (default 5000 ms). Not enforced where AbortController does not exist (Fastly: use backend timeouts). */
  timeoutMs?: number;
  /** Fastly passes one that sets the backend; defaults to the global fetch. */
  fetch?: FetchFn;
}

/** An avatar original's first byte comes in well under a second; 5 s tolerates a slow tail and still leaves time to fail over. */
export const DEFAULT_S3_TIMEOUT_MS = 5000;

export type S3Field = 'endpoint' | 'region' | 'bucket' | 'accessKeyId' | 'secretAccessKey' | 'forcePathStyle' | 'timeoutMs';

/** Every problem with `cfg`, in words; empty when it is usable. `nameOf` names fields the way the user set them (config.ts: env names). */
export function s3ConfigProblems(cfg: Partial<S3Config>, nameOf: (field: S3Field) => string = (f) => `S3 ${f}`): string[] {
  const problems: string[] = [];
  let url: URL | undefined;
  if (!cfg.endpoint) problems.push(`${nameOf('endpoint')} is required`);
  else {
    try {
      url = new URL(cfg.endpoint);
    } catch {
      problems.push(`${nameOf('endpoint')} must be an absolute http(s) URL`);
    }
  }
  if (url) {
    if (url.protocol !== 'https:' && url.protocol !== 'http:') problems.push(`${nameOf('endpoint')} must use http or https`);
    // Credentials in a URL end up in logs and error messages: they belong in the key fields.
    if (url.username || url.password) problems.push(`${nameOf('endpoint')} must not contain credentials`);
    if (url.search || url.hash) problems.push(`${nameOf('endpoint')} must not have a query or fragment`);
    if (cfg.forcePathStyle === false && isIpOrLocalhost(url.hostname)) problems.push(`${nameOf('forcePathStyle')} must be true for ${url.hostname}: virtual-hosted buckets need a DNS name`);
  }
  if (!cfg.region) problems.push(`${nameOf('region')} is required (R2: auto)`);
  if (!cfg.bucket) problems.push(`${nameOf('bucket')} is required`);
  else if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(cfg.bucket)) problems.push(`${nameOf('bucket')} must be 3-63 characters of a-z, 0-9, '.' and '-'`);
  if (!cfg.accessKeyId) problems.push(`${nameOf('accessKeyId')} is required`);
  if (!cfg.secretAccessKey) problems.push(`${nameOf('secretAccessKey')} is required`);
  if (cfg.timeoutMs !== undefined && !(Number.isInteger(cfg.timeoutMs) && cfg.timeoutMs > 0)) problems.push(`${nameOf('timeoutMs')} must be a positive integer (ms)`);
  return problems;
}

export function createS3Store(cfg: S3Config): ConditionalObjectStore {
  const problems = s3ConfigProblems(cfg);
  if (problems.length) throw new ConfigError(problems);

  const loc: S3Location = {
    endpoint: cfg.endpoint,
    bucket: cfg.bucket,
    forcePathStyle: cfg.forcePathStyle ?? defaultPathStyle(new URL(cfg.endpoint).hostname),
  };
  const timeoutMs = cfg.timeoutMs ?? DEFAULT_S3_TIMEOUT_MS;
  const doFetch: FetchFn = cfg.fetch ?? ((r) => fetch(r));
  const signer = new AwsClient({
    accessKeyId: cfg.accessKeyId,
    secretAccessKey: cfg.secretAccessKey,
    ...(cfg.sessionToken ? { sessionToken: cfg.sessionToken } : {}),
    service: 's3',
    region: cfg.region,
    retries: 0,
  });
  // Belt and braces: messages are built without credentials, but nothing credential-like may slip through
  // (short strings are skipped: scrubbing a 3-letter test key would shred every message).
  const secrets = [cfg.secretAccessKey, cfg.sessionToken, cfg.accessKeyId].filter((s): s is string => !!s && s.length >= 8);
  const scrub = (s: string) => secrets.reduce((acc, sec) => acc.split(sec).join('[redacted]'), s);
  const where = (op: string, key: string | undefined) => `S3 ${op}${key === undefined ? '' : ` "${key}"`} in bucket ${cfg.bucket}`;

  interface Call {
    op: string;
    key?: string;
    method: string;
    url: string;
    headers?: Record<string, string>;
    body?: Uint8Array;
  }

  /** Signs and sends one request; the returned `read` reads the body under the same deadline. */
  async function send(c: Call): Promise<{ res: Response; read: () => Promise<Uint8Array> }> {
    const signal = timeoutSignal(timeoutMs);
    const fail = (e: unknown): StorageError => {
      const timedOut = signal?.aborted === true || (e as { name?: string } | null)?.name === 'TimeoutError';
      const cause = (e as { cause?: { code?: string; message?: string } } | null)?.cause;
      const reason = timedOut ? `timed out after ${timeoutMs} ms` : `connection failed (${cause?.code ?? cause?.message ?? (e as Error)?.message ?? 'unknown'})`;
      return new StorageError({
        status: 0,
        code: timedOut ? 'Timeout' : 'NetworkError',
        message: scrub(`${where(c.op, c.key)}: no response, ${reason}`),
        operation: c.op,
        ...(c.key === undefined ? {} : { key: c.key }),
        retryable: true,
        cause: e,
      });
    };
    const req = await signer.sign(c.url, {
      method: c.method,
      ...(c.headers ? { headers: c.headers } : {}),
      ...(c.body ? { body: c.body as Uint8Array<ArrayBuffer> } : {}),
      ...(signal ? { signal } : {}),
    });
    let res: Response;
    try {
      res = await doFetch(req);
    } catch (e) {
      throw fail(e);
    }
    const read = async () => {
      try {
        return new Uint8Array(await res.arrayBuffer());
      } catch (e) {
        throw fail(e);
      }
    };
    return { res, read };
  }

  /** Turns a non-success response into a StorageError, reading the S3 error code from the body. */
  async function failure(c: Call, res: Response, read: () => Promise<Uint8Array>): Promise<StorageError> {
    let parsed: { code?: string; message?: string } = {};
    if (c.method !== 'HEAD') {
      try {
        parsed = parseS3Error(new TextDecoder().decode(await read()));
      } catch {
        // An unreadable error body still leaves the status, which is what matters.
      }
    }
    const code = parsed.code ?? codeForStatus(res.status);
    const detail = parsed.message ? `: ${parsed.message.slice(0, 200)}` : '';
    return new StorageError({
      status: res.status,
      code,
      message: scrub(`${where(c.op, c.key)} failed: ${res.status} ${code}${detail}`),
      operation: c.op,
      ...(c.key === undefined ? {} : { key: c.key }),
    });
  }

  /** A 404 means "no such object" unless S3 says the bucket itself is missing: that is misconfiguration, not absence. */
  async function missingOrThrow(c: Call, res: Response, read: () => Promise<Uint8Array>): Promise<null> {
    const err = await failure(c, res, read);
    if (err.code === 'NoSuchBucket') throw err;
    return null;
  }

  const store: ConditionalObjectStore = {
    supportsGetOptions: true,

    async get(key: string, opts: GetOptions = {}): Promise<GetResult | null> {
      assertKey('get', key);
      const headers: Record<string, string> = {};
      if (opts.range) {
        assertValidRange(opts.range);
        headers.range = `bytes=${opts.range.start}-${opts.range.end ?? ''}`;
      }
      if (opts.ifNoneMatch !== undefined) headers['if-none-match'] = opts.ifNoneMatch;
      const c: Call = { op: 'get', key, method: 'GET', url: objectUrl(loc, key), headers };
      const { res, read } = await send(c);
      if (res.status === 404) return missingOrThrow(c, res, read);
      if (res.status === 304) {
        await res.body?.cancel();
        const etag = res.headers.get('etag');
        return { body: new Uint8Array(0), status: 304, ...(etag ? { etag } : {}) };
      }
      if (res.status !== 200 && res.status !== 206) throw await failure(c, res, read);
      const body = await read();
      const declared = res.headers.get('content-length');
      if (declared !== null && Number(declared) !== body.byteLength) {
        throw new StorageError({ status: res.status, code: 'IncompleteBody', message: `${where('get', key)}: got ${body.byteLength} of ${declared} bytes`, operation: 'get', key, retryable: true });
      }
      const obj = { body, ...describe(res.headers), owned: true };
      if (res.status === 206) return { ...obj, status: 206, ...sizeFromContentRange(res.headers.get('content-range')) };
      // A server that ignores Range answers 200 with everything: cut the range out here.
      return opts.range ? applyGetOptions(obj, { range: opts.range }, key) : { ...obj, status: 200, size: body.byteLength };
    },

    async head(key: string): Promise<ObjectInfo | null> {
      assertKey('head', key);
      const c: Call = { op: 'head', key, method: 'HEAD', url: objectUrl(loc, key) };
      const { res, read } = await send(c);
      if (res.status === 404) return missingOrThrow(c, res, read);
      if (res.status !== 200) throw await failure(c, res, read);
      await res.body?.cancel();
      return { size: Number(res.headers.get('content-length') ?? 0), ...describe(res.headers) };
    },

    async put(key: string, body: Uint8Array, opts: PutOptions = {}): Promise<void> {
      assertKey('put', key);
      const headers: Record<string, string> = {
        'content-type': opts.contentType ?? 'application/octet-stream',
        // A signed payload hash: S3 refuses the PUT if the bytes it received differ.
        'x-amz-content-sha256': await sha256Hex(body),
      };
      for (const [k, v] of Object.entries(opts.metadata ?? {})) {
        if (!/^[a-z0-9-]+$/.test(k)) throw new TypeError(`metadata key ${JSON.stringify(k)} must be lowercase [a-z0-9-]`);
        // Header values are bytes; S3 would mangle non-ASCII (RFC 2047), so refuse it up front.
        if (!/^[\x20-\x7e]*$/.test(v)) throw new TypeError(`metadata value for ${k} must be printable ASCII`);
        headers[`x-amz-meta-${k}`] = v;
      }
      const c: Call = { op: 'put', key, method: 'PUT', url: objectUrl(loc, key), headers, body };
      const { res, read } = await send(c);
      if (!res.ok) throw await failure(c, res, read);
      await read();
    },

    async delete(key: string): Promise<void> {
      assertKey('delete', key);
      const c: Call = { op: 'delete', key, method: 'DELETE', url: objectUrl(loc, key) };
      const { res, read } = await send(c);
      // S3 answers 204 for a missing key; some compatible servers say 404. Both mean "gone".
      if (res.status === 404) {
        await missingOrThrow(c, res, read);
        return;
      }
      if (!res.ok) throw await failure(c, res, read);
      await read();
    },

    async deleteMany(keys: string[]): Promise<DeleteManyResult> {
      const unique = [...new Set(keys)];
      unique.forEach((k) => assertKey('delete', k));
      const out: DeleteManyResult = { deleted: [], failed: [] };
      for (let i = 0; i < unique.length; i += MAX_DELETE_KEYS) {
        const part = unique.slice(i, i + MAX_DELETE_KEYS);
        // Quiet: S3 lists only the keys it could not delete, so the answer stays small.
        const xml = `<?xml version="1.0" encoding="UTF-8"?><Delete><Quiet>true</Quiet>${part.map((k) => `<Object><Key>${escapeXmlText(k)}</Key></Object>`).join('')}</Delete>`;
        const body = new TextEncoder().encode(xml);
        const digest = await sha256(body);
        const c: Call = {
          op: 'deleteMany',
          key: `${part.length} keys`,
          method: 'POST',
          url: bucketUrl(loc, { delete: '' }),
          // DeleteObjects needs a body checksum (Content-MD5 or x-amz-checksum-*); Web Crypto has no MD5, so SHA-256.
          headers: { 'content-type': 'application/xml', 'x-amz-content-sha256': toHex(digest), 'x-amz-checksum-sha256': base64(digest), 'x-amz-sdk-checksum-algorithm': 'SHA256' },
          body,
        };
        const { res, read } = await send(c);
        if (res.status !== 200) {
          const err = await failure(c, res, read);
          if (!MULTI_DELETE_UNSUPPORTED.has(err.code) && res.status !== 501) throw err;
          // A server without DeleteObjects (or without SHA-256 body checksums): one DELETE per key, more requests, same result.
          for (const k of part) {
            try {
              await store.delete(k);
              out.deleted.push(k);
            } catch (e) {
              out.failed.push({ key: k, error: (e as Error).message });
            }
          }
          continue;
        }
        let result;
        try {
          result = parseDeleteResult(new TextDecoder().decode(await read()));
        } catch {
          throw new StorageError({ status: 200, code: 'MalformedResponse', message: `${where('deleteMany', c.key)}: the answer is not a DeleteResult`, operation: 'deleteMany', retryable: true });
        }
        const failed = new Map(result.errors.map((e) => [e.key, scrub(`${e.code}${e.message ? `: ${e.message.slice(0, 200)}` : ''}`)]));
        for (const k of part) {
          const error = failed.get(k);
          if (error === undefined) out.deleted.push(k);
          else out.failed.push({ key: k, error });
        }
      }
      return out;
    },

    async list(prefix: string, opts: { cursor?: string; limit?: number } = {}): Promise<ListPage> {
      if (/[\x00-\x1f\x7f]/.test(prefix)) throw new TypeError('list prefix must not contain control characters');
      // S3 caps a page at 1000 keys; below 1 is meaningless.
      const limit = Math.min(1000, Math.max(1, Math.floor(opts.limit ?? 1000)));
      const url = bucketUrl(loc, { 'list-type': '2', prefix: prefix || undefined, 'max-keys': String(limit), 'continuation-token': opts.cursor });
      const c: Call = { op: 'list', key: prefix, method: 'GET', url };
      const { res, read } = await send(c);
      if (res.status !== 200) throw await failure(c, res, read);
      const xml = new TextDecoder().decode(await read());
      let page;
      try {
        page = parseListObjectsV2(xml);
      } catch {
        throw new StorageError({ status: 200, code: 'MalformedResponse', message: `${where('list', prefix)}: the answer is not a ListBucketResult`, operation: 'list', key: prefix, retryable: true });
      }
      if (page.isTruncated && !page.nextContinuationToken) {
        throw new StorageError({
          status: 200,
          code: 'MalformedResponse',
          message: `${where('list', prefix)}: truncated page without a continuation token`,
          operation: 'list',
          key: prefix,
          retryable: false,
        });
      }
      return page.isTruncated ? { keys: page.keys, cursor: page.nextContinuationToken! } : { keys: page.keys };
    },
  };
  return store;
}

/** Refuses keys that a URL would rewrite ('.' and '..' segments are resolved by URL parsers) or S3 would refuse. */
function assertKey(op: string, key: string): void {
  const bad = key === '' || key.startsWith('/') || new TextEncoder().encode(key).byteLength > 1024 || /[\x00-\x1f\x7f]/.test(key) || key.split('/').some((s) => s === '.' || s === '..');
  if (bad) throw new StorageError({ status: 400, code: 'InvalidKey', message: `S3 ${op}: invalid object key ${JSON.stringify(key.slice(0, 100))}`, operation: op, key, retryable: false });
}

function describe(h: Headers): { contentType?: string; etag?: string; metadata: Record<string, string> } {
  const metadata: Record<string, string> = {};
  h.forEach((value, name) => {
    if (name.startsWith('x-amz-meta-')) metadata[name.slice('x-amz-meta-'.length)] = value;
  });
  const contentType = h.get('content-type');
  const etag = h.get('etag');
  return { ...(contentType ? { contentType } : {}), ...(etag ? { etag } : {}), metadata };
}

function sizeFromContentRange(v: string | null): { size?: number } {
  const m = v ? /\/(\d+)\s*$/.exec(v) : null;
  return m ? { size: Number(m[1]) } : {};
}

const STATUS_CODES: Record<number, string> = {
  400: 'BadRequest',
  403: 'AccessDenied',
  404: 'NotFound',
  409: 'Conflict',
  412: 'PreconditionFailed',
  416: 'InvalidRange',
  429: 'TooManyRequests',
  500: 'InternalError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'GatewayTimeout',
};

function codeForStatus(status: number): string {
  return STATUS_CODES[status] ?? `Http${status}`;
}

/**
 * A deadline for one request, body included. Fastly has no AbortController: there the
 * backend's connect/first-byte/between-bytes timeouts bound the time instead.
 */
function timeoutSignal(ms: number): AbortSignal | undefined {
  if (typeof AbortController === 'undefined') return undefined;
  if (typeof AbortSignal.timeout === 'function') return AbortSignal.timeout(ms);
  const c = new AbortController();
  setTimeout(() => c.abort(new DOMException('request timed out', 'TimeoutError')), ms);
  return c.signal;
}

/** S3's most keys per DeleteObjects request. */
const MAX_DELETE_KEYS = 1000;
/** What S3-compatible servers answer when they lack DeleteObjects or the checksum it is sent with. */
const MULTI_DELETE_UNSUPPORTED = new Set(['NotImplemented', 'MissingContentMD5', 'InvalidRequest', 'InvalidArgument', 'MethodNotAllowed']);

function base64(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}
