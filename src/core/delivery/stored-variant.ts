import { strongEtag } from './etag.js';
import type { ObjectStore } from '../ports.js';
import { variantObjectKey } from '../storage-keys.js';
import { CONTENT_TYPES, type Variant } from '../variant.js';

/**
 * Writes one rendered variant to the variant store, the same way whoever rendered it (a
 * cache miss, an upload, the precompute CLI): its content type, and its strong ETag in the
 * metadata so a later read does not hash the bytes again. Returns the ETag.
 */
export async function putVariant(store: ObjectStore, variant: Variant, body: Uint8Array, etag?: string): Promise<string> {
  const tag = etag ?? (await strongEtag(body));
  await store.put(variantObjectKey(variant), body, { contentType: CONTENT_TYPES[variant.format], metadata: { etag: tag } });
  return tag;
}
