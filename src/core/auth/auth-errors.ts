import { HttpError } from '../errors.js';

/**
 * The 403s of the auth stage. Messages say what to do, never what was expected: no payload,
 * no expected signature, no configured key ids, no server time.
 */
export const signatureRequired = (): HttpError => new HttpError(403, 'SIGNATURE_REQUIRED', 'this tenant only serves signed URLs: exp, kid and sig are required');

export const badSignature = (): HttpError => new HttpError(403, 'BAD_SIGNATURE', 'the signature does not match this URL');

export const expired = (): HttpError => new HttpError(403, 'EXPIRED', 'the signed URL has expired');

export const unknownKey = (): HttpError => new HttpError(403, 'UNKNOWN_KEY', 'the key id is not valid for this tenant');

export const hotlinkDenied = (): HttpError => new HttpError(403, 'HOTLINK_DENIED', 'this image may not be embedded from the requesting page');
