import { timingSafeEqual } from '../constant-time.js';

/** A value no header can equal, compared when no token is configured so timing does not tell. */
const NO_TOKEN = '\u0000no admin token configured';

/**
 * Which admin token `Authorization: Bearer <token>` carries: its id (what the audit log
 * records), or null. Every configured token is compared, in constant time, without early exit.
 */
export async function adminTokenId(header: string | null, tokens: Readonly<Record<string, string>>): Promise<string | null> {
  const m = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header ?? '');
  const presented = m ? m[1]! : '';
  const entries = Object.entries(tokens);
  let who: string | null = null;
  for (const [id, secret] of entries.length ? entries : [['', NO_TOKEN] as const]) {
    const same = await timingSafeEqual(presented, secret);
    if (same && m && secret.length > 0 && id && who === null) who = id;
  }
  return who;
}
