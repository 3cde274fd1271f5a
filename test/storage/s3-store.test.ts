import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type S3Config, createS3Store } from '../../src/storage/s3-store.js';
import { StorageError } from '../../src/storage/storage-error.js';
import { S3RVER_KEY, type S3rverHandle, startS3rver } from './s3rver.js';
import { runStoreContract } from './store-contract.js';
import { loopbackFetch, s3ErrorXml, startStubServer } from './stub-server.js';

let s3: S3rverHandle;
const BUCKET = 'avatars';
const cfg = (over: Partial<S3Config> = {}): S3Config => ({ endpoint: s3.endpoint, region: 'us-east-1', bucket: BUCKET, ...S3RVER_KEY, ...over });

beforeAll(async () => {
  s3 = await startS3rver([BUCKET]);
});

afterAll(async () => {
  await s3?.stop();
});

// s3rver runs a DeleteObjects' deletes concurrently, and each one removes directories it finds
// empty: two keys in one folder race (ENOENT, a 500). MinIO runs the multi-delete contract.
const S3RVER_DELETE_RACE = 's3rver races on its own folder cleanup in DeleteObjects (500)';

runStoreContract('s3-store (s3rver, path-style)', () => createS3Store(cfg()), { deleteManyBroken: S3RVER_DELETE_RACE });

// The same contract through a virtual-hosted URL (avatars.s3.amazonaws.com), routed to the
// loopback server the way DNS would route it.
runStoreContract('s3-store (s3rver, virtual-hosted)', () => createS3Store(cfg({ endpoint: `http://s3.amazonaws.com:${s3.port}`, forcePathStyle: false, fetch: loopbackFetch(s3.port) })), {
  deleteManyBroken: S3RVER_DELETE_RACE,
});

describe('s3-store against s3rver', () => {
  const store = () => createS3Store(cfg());

  it('refuses an unknown access key id with a typed 403 that leaks no credentials', async () => {
    // s3rver knows key ids but does not verify SigV4 signatures (a wrong secret for S3RVER
    // passes), so "wrong credentials" here means an unknown key id.
    const bad = createS3Store(cfg({ accessKeyId: 'AKIAWRONGKEY0000', secretAccessKey: 'very-secret-value' }));
    for (const op of [() => bad.get('k'), () => bad.put('k', new Uint8Array([1])), () => bad.list(''), () => bad.delete('k')]) {
      const err = await op().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect(err).toMatchObject({ status: 403, code: 'InvalidAccessKeyId', retryable: false });
      expect(String((err as Error).message)).not.toMatch(/very-secret-value|AKIAWRONGKEY0000/);
    }
    // HEAD has no error body: the status alone says it.
    await expect(bad.head('k')).rejects.toMatchObject({ status: 403, retryable: false });
  });

  it('treats a missing bucket as an error, not as a missing object', async () => {
    const other = createS3Store(cfg({ bucket: 'no-such-bucket' }));
    await expect(other.get('k')).rejects.toMatchObject({ status: 404, code: 'NoSuchBucket', retryable: false });
  });

  it('reads byte ranges (206) with the full size, and refuses a range past the end (416)', async () => {
    const s = store();
    await s.put(
      'ranges/r1',
      Uint8Array.from({ length: 100 }, (_, i) => i),
    );
    const mid = await s.get('ranges/r1', { range: { start: 10, end: 19 } });
    expect(mid).toMatchObject({ status: 206, size: 100 });
    expect(Array.from(mid!.body)).toEqual(Array.from({ length: 10 }, (_, i) => 10 + i));
    const tail = await s.get('ranges/r1', { range: { start: 95 } });
    expect(Array.from(tail!.body)).toEqual([95, 96, 97, 98, 99]);
    await expect(s.get('ranges/r1', { range: { start: 500 } })).rejects.toMatchObject({ status: 416, code: 'InvalidRange', retryable: false });
    expect(await s.get('ranges/missing', { range: { start: 0, end: 1 } })).toBeNull();
  });

  it('answers If-None-Match with 304 and no body when the ETag still matches', async () => {
    const s = store();
    await s.put('cond/c1', new Uint8Array([1, 2, 3]), { contentType: 'image/png' });
    const full = await s.get('cond/c1');
    expect(full!.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect((await s.head('cond/c1'))!.etag).toBe(full!.etag);
    const same = await s.get('cond/c1', { ifNoneMatch: full!.etag! });
    expect(same).toMatchObject({ status: 304 });
    expect(same!.body.byteLength).toBe(0);
    const changed = await s.get('cond/c1', { ifNoneMatch: '"0000"' });
    expect(changed).toMatchObject({ status: 200, size: 3 });
  });

  it('encodes awkward keys and prefixes exactly (space, +, %, quotes, parentheses, unicode)', async () => {
    const s = store();
    const keys = ["odd/a b+c%20d(e)!*'é.webp", 'odd/a b/x', 'odd/plus+only'];
    for (const k of keys) {
      await s.put(k, new TextEncoder().encode(k));
      expect(new TextDecoder().decode((await s.get(k))!.body)).toBe(k);
    }
    // Sorted here because s3rver lists in its directory-walk order ('a b/' before 'a b+'),
    // not in S3's UTF-8 byte order.
    expect((await s.list('odd/')).keys.sort()).toEqual([...keys].sort());
    expect((await s.list('odd/a b')).keys.sort()).toEqual(["odd/a b+c%20d(e)!*'é.webp", 'odd/a b/x']);
  });

  it('signs with SigV4 and sends the payload hash, the session token and x-amz-meta-*', async () => {
    const seen: Request[] = [];
    const s = createS3Store(
      cfg({
        sessionToken: 'token-123',
        fetch: (req) => {
          seen.push(req.clone());
          return fetch(req);
        },
      }),
    );
    const body = new TextEncoder().encode('hello');
    await s.put('signed/one', body, { contentType: 'text/plain', metadata: { version: '7' } });
    const req = seen[0]!;
    expect(req.method).toBe('PUT');
    expect(req.url).toBe(`${s3.endpoint}/${BUCKET}/signed/one`);
    expect(req.headers.get('authorization')).toMatch(/^AWS4-HMAC-SHA256 Credential=S3RVER\/\d{8}\/us-east-1\/s3\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/);
    expect(req.headers.get('x-amz-content-sha256')).toBe(createHash('sha256').update(body).digest('hex'));
    expect(req.headers.get('x-amz-security-token')).toBe('token-123');
    expect(req.headers.get('x-amz-meta-version')).toBe('7');
    expect(req.headers.get('content-type')).toBe('text/plain');
  });

  it('refuses metadata S3 would mangle', async () => {
    const s = store();
    await expect(s.put('meta/bad', new Uint8Array([1]), { metadata: { Upper: 'x' } })).rejects.toThrow(/lowercase/);
    await expect(s.put('meta/bad', new Uint8Array([1]), { metadata: { ok: 'naïve' } })).rejects.toThrow(/ASCII/);
  });
});

describe('s3-store failure modes (stub servers)', () => {
  it('turns a 503 SlowDown into a retryable StorageError with the S3 code', async () => {
    const stub = await startStubServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end(s3ErrorXml('SlowDown', 'Please reduce your request rate.'));
    });
    try {
      const s = createS3Store(cfg({ endpoint: stub.endpoint }));
      await expect(s.get('x/y')).rejects.toMatchObject({ name: 'StorageError', status: 503, code: 'SlowDown', retryable: true, operation: 'get', key: 'x/y' });
      await expect(s.head('x/y')).rejects.toMatchObject({ status: 503, code: 'ServiceUnavailable', retryable: true });
    } finally {
      await stub.stop();
    }
  });

  it('redacts credentials a server echoes back in its error message', async () => {
    const stub = await startStubServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end(s3ErrorXml('SignatureDoesNotMatch', 'key AKIAECHOED000000 with secret echoed-secret-value does not match'));
    });
    try {
      const s = createS3Store(cfg({ endpoint: stub.endpoint, accessKeyId: 'AKIAECHOED000000', secretAccessKey: 'echoed-secret-value' }));
      const err = (await s.get('x').catch((e: unknown) => e)) as StorageError;
      expect(err).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch', retryable: false });
      expect(err.message).toBe('S3 get "x" in bucket avatars failed: 403 SignatureDoesNotMatch: key [redacted] with secret [redacted] does not match');
    } finally {
      await stub.stop();
    }
  });

  it('falls back to one DELETE per key where DeleteObjects is not implemented', async () => {
    const stub = await startStubServer((req, res) => {
      if (req.method === 'POST') {
        res.writeHead(501, { 'content-type': 'application/xml' });
        res.end(s3ErrorXml('NotImplemented', 'A header you provided implies functionality that is not implemented'));
      } else res.writeHead(req.url!.endsWith('/b') ? 403 : 204).end(req.url!.endsWith('/b') ? s3ErrorXml('AccessDenied', 'no') : undefined);
    });
    try {
      const r = await createS3Store(cfg({ endpoint: stub.endpoint })).deleteMany!(['x/a', 'x/b']);
      expect(r.deleted).toEqual(['x/a']);
      expect(r.failed).toEqual([{ key: 'x/b', error: expect.stringMatching(/403 AccessDenied/) }]);
      expect(stub.seen).toEqual(['POST /avatars?delete=', 'DELETE /avatars/x/a', 'DELETE /avatars/x/b']);
    } finally {
      await stub.stop();
    }
  });

  it('does not fall back when DeleteObjects is refused for another reason', async () => {
    const stub = await startStubServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end(s3ErrorXml('SignatureDoesNotMatch', 'no'));
    });
    try {
      await expect(createS3Store(cfg({ endpoint: stub.endpoint })).deleteMany!(['x/a'])).rejects.toMatchObject({ status: 403, code: 'SignatureDoesNotMatch', operation: 'deleteMany' });
      expect(stub.seen).toEqual(['POST /avatars?delete=']);
    } finally {
      await stub.stop();
    }
  });

  it('names a non-XML 5xx by its status', async () => {
    const stub = await startStubServer((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><body>Bad Gateway</body></html>');
    });
    try {
      await expect(createS3Store(cfg({ endpoint: stub.endpoint })).get('x')).rejects.toMatchObject({ status: 502, code: 'BadGateway', retryable: true });
    } finally {
      await stub.stop();
    }
  });

  it('cuts a server that never answers at timeoutMs', async () => {
    const stub = await startStubServer(() => {
      /* never answers */
    });
    try {
      const s = createS3Store(cfg({ endpoint: stub.endpoint, timeoutMs: 200 }));
      const t0 = Date.now();
      await expect(s.get('x')).rejects.toMatchObject({ status: 0, code: 'Timeout', retryable: true });
      expect(Date.now() - t0).toBeLessThan(2000);
    } finally {
      await stub.stop();
    }
  });

  it('cuts a body that stalls halfway at timeoutMs', async () => {
    const stub = await startStubServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': '1000' });
      res.write(new Uint8Array(10));
    });
    try {
      const s = createS3Store(cfg({ endpoint: stub.endpoint, timeoutMs: 200 }));
      await expect(s.get('x')).rejects.toMatchObject({ code: 'Timeout', retryable: true });
    } finally {
      await stub.stop();
    }
  });

  it('reports a refused connection as a retryable NetworkError', async () => {
    const stub = await startStubServer(() => {});
    await stub.stop();
    const s = createS3Store(cfg({ endpoint: stub.endpoint }));
    await expect(s.get('x')).rejects.toMatchObject({ status: 0, code: 'NetworkError', retryable: true });
  });

  it('refuses keys a URL would rewrite, before sending anything', async () => {
    const stub = await startStubServer((_req, res) => res.end());
    try {
      const s = createS3Store(cfg({ endpoint: stub.endpoint }));
      for (const key of ['', '/abs', 'a/../b', 'a/./b', 'a\nb']) await expect(s.get(key)).rejects.toMatchObject({ code: 'InvalidKey', retryable: false });
      expect(stub.seen).toEqual([]);
    } finally {
      await stub.stop();
    }
  });
});
