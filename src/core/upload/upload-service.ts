import { mapBounded, withRetries } from '../bounded.js';
import { purgeKeys } from '../purge/purge-keys.js';
import type { Purger } from '../purge/purger.js';
import { isTombstoned } from '../tombstone.js';
import type { ServiceConfig } from '../config/service-config.js';
import type { Tenant } from '../config/tenant-config.js';
import { HttpError, isHttpError } from '../errors.js';
import { frameCount } from '../image/animation-header.js';
import { alphaMetadata } from '../image/original-alpha.js';
import { animationMetadata } from '../image/original-animation.js';
import { unsupportedFormatName } from '../image/sniff-heif.js';
import { orientedSize, SOURCE_CONTENT_TYPES, SUPPORTED_SOURCES, sniffImage } from '../image/sniff.js';
import type { ImageWork, InFlightRegistry } from '../in-flight.js';
import type { Clock, ObjectStore, Renderer, VariantLoader } from '../ports.js';
import { originalKey, variantPrefix } from '../storage-keys.js';
import { putVariant } from '../delivery/stored-variant.js';
import { imageKey } from '../surrogate-keys.js';
import { createLimiter } from './limiter.js';
import { encodeFocalRecord, focalKey } from '../focal-point.js';
import { DEFAULT_RENDER_CONCURRENCY, renderVariants } from './render-variants.js';
import { standardVariants } from './standard-variants.js';
import type { Uploader } from './upload-auth.js';
import { listAllKeys } from '../list-keys.js';

/**
 * Renders running at once across all uploads of one app instance. Each holds a decoded original
 * (up to maxSourcePixels × 4 bytes, ~200 MB at the 50 MP default), so this bounds memory.
 */
export const MAX_UPLOAD_RENDERS = 2;
/** Old variants of one image deleted at once: a few dozen objects, kept gentle on S3 rates. */
const DELETE_CONCURRENCY = 4;

export interface UploadDeps {
  store: ObjectStore;
  renderer: Renderer;
  config: ServiceConfig;
  /** Drops cached responses of the image (the host's cache or CDN). */
  purger: Purger;
  /** Told to forget what it remembers of a replaced original (its alpha and animation flags). */
  loader?: Pick<VariantLoader, 'forget'>;
  clock?: Clock;
  /** Renders per upload at once (default 2); MAX_UPLOAD_RENDERS bounds all uploads together. */
  concurrency?: number;
  /** Uploads in flight per image, so a takedown in this process can cancel them (in-flight.ts). */
  inFlight?: InFlightRegistry;
  log?: (msg: string, err?: unknown) => void;
}

export interface UploadResult {
  tenant: string;
  id: string;
  /** 1 for a new image, bumped by every upload of the same id. */
  version: number;
  format: string;
  width: number;
  height: number;
  bytes: number;
  /** Standard variants now in the variant store. */
  variants: number;
  /** Variants that failed to render or store (they render on first request instead). */
  failed: number;
  ms: number;
  /** No original existed before (the route answers 201 instead of 200). */
  created: boolean;
}

export interface UploadService {
  /**
   * Stores `readBody()`'s bytes as the original of `{tenant}/{id}`. The body is read only
   * after the cheap refusals (taken down), so a refused upload costs no transfer.
   */
  upload(tenant: Tenant, id: string, readBody: () => Promise<Uint8Array>, who: Uploader): Promise<UploadResult>;
}

export function createUploadService(deps: UploadDeps): UploadService {
  const { store, config } = deps;
  const limiter = createLimiter(MAX_UPLOAD_RENDERS);
  const renderer: Renderer = { render: (source, variant, opts) => limiter.run(() => deps.renderer.render(source, variant, opts)) };
  const now = () => (deps.clock ?? Date).now();

  async function deleteStoredVariants(tenant: string, id: string): Promise<number> {
    const prefix = variantPrefix(tenant, id);
    const keys = await listAllKeys(store, prefix);
    // Retried: a store's occasional 500 must not leave old variants behind a new original.
    const results = await mapBounded(keys, DELETE_CONCURRENCY, (key) => withRetries(() => store.delete(key)));
    const failed = results.find((r) => !r.ok);
    if (failed && !failed.ok) {
      deps.log?.(`upload ${tenant}/${id}: deleting old variants failed: ${failed.error}`);
      throw new HttpError(503, 'ORIGIN_UNAVAILABLE', 'the original is stored but its old variants could not all be deleted; repeat the upload');
    }
    return keys.length;
  }

  const takenDown = (tenant: string, id: string) => new HttpError(409, 'TAKEN_DOWN', `'${tenant}/${id}' was taken down; an admin must restore it before it can be uploaded again`);
  const takenDownMeanwhile = (tenant: string, id: string) => new HttpError(409, 'TAKEN_DOWN', `'${tenant}/${id}' was taken down while this upload ran; nothing of it was kept`);

  /** A takedown started: cancelled by one in this process, or a tombstone in the store (another process). */
  async function stopped(work: ImageWork | undefined, tenant: string, id: string): Promise<boolean> {
    return work?.cancelled === true || (await isTombstoned(store, tenant, id));
  }

  /** Deletes what this upload wrote (the original and every stored variant): the image was taken down meanwhile. */
  async function undo(tenant: string, id: string): Promise<void> {
    const keys = [originalKey(tenant, id), ...(await listAllKeys(store, variantPrefix(tenant, id)))];
    const results = await mapBounded(keys, DELETE_CONCURRENCY, (key) => withRetries(() => store.delete(key)));
    const failed = results.find((r) => !r.ok);
    if (failed && !failed.ok) {
      deps.log?.(`upload ${tenant}/${id}: undoing after a takedown failed: ${failed.error}`);
      throw new HttpError(503, 'ORIGIN_UNAVAILABLE', `'${tenant}/${id}' was taken down while this upload ran, and what it wrote could not all be deleted; run the takedown again`);
    }
  }

  return {
    async upload(tenant, id, readBody, who) {
      const work = deps.inFlight?.begin(tenant.name, id);
      try {
        return await storeUpload(tenant, id, readBody, who, work);
      } finally {
        work?.end();
      }
    },
  };

  async function storeUpload(tenant: Tenant, id: string, readBody: () => Promise<Uint8Array>, who: Uploader, work: ImageWork | undefined): Promise<UploadResult> {
    const t0 = performance.now();
    // A takedown is reversed by an admin restore, never by uploading the same id again.
    // Checked after `begin`: a takedown either cancels this upload or wrote its tombstone first.
    if (await isTombstoned(store, tenant.name, id)) throw takenDown(tenant.name, id);
    const body = await readBody();
    if (body.byteLength === 0) throw new HttpError(400, 'EMPTY_BODY', 'the body must be the image file');

    // The bytes decide the format; Content-Type and file names are the client's opinion.
    const info = sniffImage(body);
    if (!info) {
      const name = unsupportedFormatName(body);
      throw new HttpError(415, 'UNSUPPORTED_FORMAT', `the body is ${name ? `a ${name} image, which is not supported` : 'not an image'}; supported: ${SUPPORTED_SOURCES}`);
    }
    const pixels = info.width * info.height;
    if (pixels > config.limits.maxSourcePixels) {
      throw new HttpError(422, 'SOURCE_TOO_LARGE', `the image is ${info.width}×${info.height} (${pixels} pixels); the limit is ${config.limits.maxSourcePixels} pixels`);
    }

    // Render the first variant before storing anything: a truncated or corrupt file (which
    // sniffing cannot see) is refused with the decoder's 422 and the old original stays.
    const variants = standardVariants(tenant, id, { hasAlpha: info.hasAlpha });
    const [first, ...rest] = variants;
    const firstRender = first ? await renderer.render(body, first) : undefined;

    // What a viewer sees (EXIF orientation applied), as the variants are rendered.
    const shown = orientedSize(info);
    const key = originalKey(tenant.name, id);
    const previous = await store.head(key);
    // Reading and rendering take long enough for a takedown to start meanwhile.
    if (await stopped(work, tenant.name, id)) throw takenDownMeanwhile(tenant.name, id);
    const prevVersion = Number(previous?.metadata?.version);
    const version = Number.isSafeInteger(prevVersion) && prevVersion > 0 ? prevVersion + 1 : 1;
    let stored = 0;
    let failed = 0;
    try {
      await store.put(key, body, {
        contentType: SOURCE_CONTENT_TYPES[info.format],
        metadata: {
          version: String(version),
          'uploaded-at': new Date(now()).toISOString(),
          'uploaded-by': `${who.kind}:${who.id}`,
          width: String(shown.width),
          height: String(shown.height),
          ...alphaMetadata(info.hasAlpha),
          ...animationMetadata(frameCount(body, info) > 1),
        },
      });
      deps.loader?.forget?.(tenant.name, id);

      // Variants of the old original (standard or not) must not outlive it.
      if (previous) await deleteStoredVariants(tenant.name, id);
      // Found by the first render: stored once, and handed to the other variants so none detects again.
      const focal = firstRender?.focal;
      if (focal && !work?.cancelled) await store.put(focalKey(tenant.name, id), encodeFocalRecord(focal), { contentType: 'application/json' });
      if (first && firstRender && !work?.cancelled) {
        await putVariant(store, first, firstRender.body);
        stored++;
      }
      const more = await renderVariants({
        store,
        renderer,
        source: body,
        variants: focal ? rest.map((v) => ({ ...v, focal })) : rest,
        concurrency: deps.concurrency ?? DEFAULT_RENDER_CONCURRENCY,
        shouldStop: () => work?.cancelled === true,
      });
      stored += more.stored;
      failed += more.failed.length;
      for (const f of more.failed) deps.log?.(`upload ${tenant.name}/${id}: variant ${f.variant} failed: ${f.error}`);

      // After the last write: a takedown that started before this check is seen here and every
      // write is undone; one that starts after it lists (and deletes) everything written.
      if (await stopped(work, tenant.name, id)) throw takenDownMeanwhile(tenant.name, id);
    } catch (err) {
      // Whatever stopped the upload, nothing of it may stay next to a tombstone.
      const gone = (isHttpError(err) && err.code === 'TAKEN_DOWN') || (await stopped(work, tenant.name, id).catch(() => false));
      if (!gone) throw err;
      await undo(tenant.name, id);
      throw takenDownMeanwhile(tenant.name, id);
    }

    // Last, so the next request finds the new variants rather than rendering them again.
    const [purge] = await purgeKeys(deps.purger, [imageKey(tenant.name, id)], { soft: false });
    if (!purge?.ok) {
      deps.log?.(`upload ${tenant.name}/${id}: purge of ${imageKey(tenant.name, id)} failed: ${purge?.error}`);
      throw new HttpError(502, 'PURGE_FAILED', `the original is stored (version ${version}) but cached copies could not be purged; repeat the upload or purge '${imageKey(tenant.name, id)}'`);
    }

    return {
      tenant: tenant.name,
      id,
      version,
      format: info.format,
      width: shown.width,
      height: shown.height,
      bytes: body.byteLength,
      variants: stored,
      failed,
      ms: Math.round(performance.now() - t0),
      created: previous === null,
    };
  }
}
