/** The auth stage and the signing API for application backends (Web APIs only). */
export { createAuthorizer, type AuthorizerOptions } from './create-authorizer.js';
export { signUrl, type SignParams, type SignUrlOptions, type SignedUrl } from './sign-url.js';
export { signingPayload } from './signing-payload.js';
export { verifySignature } from './verify-signature.js';
export { checkHotlink, hostMatches } from './hotlink.js';
