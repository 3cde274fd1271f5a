import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { purgeKeys } from '../../src/core/purge/purge-keys.js';
import { AdminClientError, type AdminReply, createAdminClient } from './admin-client.js';
import { createFastlyApiPurger, FASTLY_API } from './fastly-api-purger.js';
import { checkFromOutside, type PublicProbe, publicCheckLine } from './public-check.js';

export const HELP = `Usage: npm run admin -- <command> [arguments] [options]

Drives the admin API (/_admin/*) of a running service, or Fastly's purge API directly.

Commands:
  purge <key>...            purge surrogate keys: t:{tenant}, i:{tenant}/{id}, v:{tenant}/{id}/{variant}
        [--keys-file F] [--soft] [--reason R] [--ticket T]
  takedown <tenant>/<id>    tombstone, delete original and variants, purge, verify, audit;
        --reason R --ticket T     then requests the URLs the service checked in its cache
        [--no-public-check]       from outside (Fastly), expecting 410. A service that splits
                                  it (202 + next) is called again until done (5 calls at most)
  erase <tenant>            the same for many images, in batches until done
        (--ids a,b,c | --ids-file F | --prefix P | --all --confirm <tenant>) --reason R --ticket T
  restore <tenant>/<id>     reverse a takedown (the image returns only with a fresh upload;
                            anything stored after the takedown is deleted first)
        --reason R [--ticket T]
  audit                     the audit log, newest first
        [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--limit N] [--all]
  fastly-purge <key>...     purge through Fastly's API (POST /service/{id}/purge), 256 keys per call
        --service ID [--keys-file F] [--soft] [--rate N (requests/s, default 5)] [--api-base URL]

Options:
  --url URL     the service (default $AVATAR_URL or http://127.0.0.1:8080)
  --json        print the API's JSON replies instead of a summary
  --help        this text

Environment:
  AVATAR_ADMIN_TOKEN   admin bearer token (every command but fastly-purge)
  FASTLY_API_TOKEN     Fastly API token with purge scope (fastly-purge)

Exit codes: 0 done · 1 failed or incomplete (one line on stderr says which step on which store;
run the same command again to finish it) · 2 usage error · 3 unauthorized · 4 service unreachable
Docs: docs/admin-api.md`;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  fetch?: typeof fetch;
  readFile?: (path: string) => Promise<string>;
}

class UsageError extends Error {}

/** Keys (or ids) per request the CLI sends; the service's own limits are higher for purges. */
const PURGE_CHUNK = 1_000;
const ERASE_CHUNK = 100;
/** A prefix erasure stops after this many rounds even if the service keeps saying "more". */
const MAX_ERASE_ROUNDS = 10_000;
/**
 * Calls one takedown (or one image of an erasure) may take on a service that splits it
 * (Fastly at a low backend request limit: listing, remove, verify); a service still answering
 * "more" after that is stuck, and the CLI reports it incomplete.
 */
const MAX_PART_CALLS = 5;

const OPTIONS = {
  url: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  soft: { type: 'boolean' },
  'keys-file': { type: 'string' },
  reason: { type: 'string' },
  ticket: { type: 'string' },
  ids: { type: 'string' },
  'ids-file': { type: 'string' },
  prefix: { type: 'string' },
  all: { type: 'boolean' },
  confirm: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  limit: { type: 'string' },
  service: { type: 'string' },
  rate: { type: 'string' },
  'api-base': { type: 'string' },
  'no-public-check': { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** Runs one CLI invocation; returns the exit code. */
export async function runAdminCli(argv: string[], io: CliIo): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true }));
  } catch (e) {
    io.err(`admin: ${(e as Error).message}\nRun with --help for usage.`);
    return 2;
  }
  if (values.help || positionals.length === 0) {
    io.out(HELP);
    return values.help ? 0 : 2;
  }
  const [command, ...args] = positionals as [string, ...string[]];
  try {
    if (command === 'fastly-purge') return await fastlyPurge(args, values, io);
    const token = io.env.AVATAR_ADMIN_TOKEN;
    if (!token) throw new UsageError('AVATAR_ADMIN_TOKEN is not set');
    const client = createAdminClient({ baseUrl: values.url ?? io.env.AVATAR_URL ?? 'http://127.0.0.1:8080', token, fetch: io.fetch });
    const ctx = { client, values, io, args };
    switch (command) {
      case 'purge':
        return await purge(ctx);
      case 'takedown':
        return await takedown(ctx);
      case 'erase':
        return await erase(ctx);
      case 'restore':
        return await restore(ctx);
      case 'audit':
        return await audit(ctx);
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`admin: ${e.message}\nRun with --help for usage.`);
      return 2;
    }
    if (e instanceof AdminClientError) {
      if (e.status === 401 || e.status === 403) {
        io.err(`admin: unauthorized (check AVATAR_ADMIN_TOKEN)`);
        return 3;
      }
      io.err(`admin: ${e.message}`);
      // A 400 from the service is bad input, like a usage error.
      return e.code === 'UNREACHABLE' ? 4 : e.code === 'USAGE' || e.status === 400 ? 2 : 1;
    }
    io.err(`admin: ${(e as Error).message}`);
    return 1;
  }
}

interface Ctx {
  client: ReturnType<typeof createAdminClient>;
  values: Values;
  io: CliIo;
  args: string[];
}

/** 2xx → the body; 401/403 → AdminClientError (exit 3); 4xx → its message (exit 1); 500 INCOMPLETE → the body, not ok. */
function expectReply(r: AdminReply): Record<string, unknown> {
  if (r.status === 401 || r.status === 403) throw new AdminClientError('unauthorized', r.status, 'UNAUTHORIZED');
  if (r.status >= 400 && !('ok' in r.body)) throw new AdminClientError(`${r.body.code ?? `HTTP ${r.status}`}: ${r.body.message ?? ''}`, r.status, String(r.body.code ?? ''));
  return r.body;
}

async function listArg(io: CliIo, inline: string[], file: string | undefined): Promise<string[]> {
  const items = [...inline];
  if (file) {
    const text = await (io.readFile ?? ((p: string) => readFile(p, 'utf8')))(file);
    items.push(...text.split(/\s+/).filter(Boolean));
  }
  return items;
}

function required(values: Values, name: 'reason' | 'ticket'): string {
  const v = values[name];
  if (!v) throw new UsageError(`--${name} is required`);
  return v;
}

function image(args: string[]): { tenant: string; id: string } {
  const m = args.length === 1 ? /^([^/]+)\/([^/]+)$/.exec(args[0]!) : null;
  if (!m) throw new UsageError('expected one argument: <tenant>/<id>');
  return { tenant: m[1]!, id: m[2]! };
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function purge({ client, values, io, args }: Ctx): Promise<number> {
  const keys = [...new Set(await listArg(io, args, values['keys-file']))];
  if (keys.length === 0) throw new UsageError('give at least one key (or --keys-file)');
  const replies: Record<string, unknown>[] = [];
  let done = 0;
  let failed = 0;
  for (const part of chunks(keys, PURGE_CHUNK)) {
    const body = expectReply(await client.call('POST', 'purge', { keys: part, soft: values.soft === true, reason: values.reason, ticket: values.ticket }));
    replies.push(body);
    done += part.length;
    failed += Number(body.failed ?? 0);
    if (keys.length > PURGE_CHUNK) io.err(`purge: ${done}/${keys.length} keys (${failed} failed)`);
  }
  if (values.json) io.out(JSON.stringify(replies.length === 1 ? replies[0] : replies, null, 2));
  else {
    for (const r of replies.flatMap((b) => (b.results as { key: string; ok: boolean; purged?: number; error?: string }[]) ?? [])) {
      io.out(`${r.ok ? 'purged' : 'FAILED'} ${r.key}${r.purged !== undefined ? ` (${r.purged} cached)` : ''}${r.error ? `: ${r.error}` : ''}`);
    }
    io.out(`${values.soft ? 'soft-' : ''}purged ${keys.length - failed}/${keys.length} keys; audit ${replies.map((b) => (b.audit as { id?: string })?.id ?? 'NOT WRITTEN').join(', ')}`);
  }
  const notOk = replies.find((b) => b.ok !== true);
  if (notOk) incompleteLine(io, 'purge', notOk);
  return replies.every((b) => b.ok === true) ? 0 : 1;
}

/** A reply for a part of a split takedown or erasure (202): done so far, to be continued by sending `next` back. */
function isPart(b: Record<string, unknown>): boolean {
  return b.ok === false && b.more === true && typeof b.next === 'object' && b.next !== null && b.code === undefined;
}

/**
 * Sends one call, then its `next` while the service answers with a part (202), each merged
 * into `base` (tenant, reason, ticket), with a progress line per part; at most MAX_PART_CALLS.
 * Returns every reply; the last one is the outcome (a part still, if the bound ran out).
 */
async function follow(ctx: Ctx, op: 'takedown' | 'erase', base: Record<string, unknown>, first: Record<string, unknown>, what: string): Promise<Record<string, unknown>[]> {
  const replies: Record<string, unknown>[] = [];
  let payload = first;
  for (let call = 1; call <= MAX_PART_CALLS; call++) {
    const body = expectReply(await ctx.client.call('POST', op, { ...base, ...payload }));
    replies.push(body);
    if (!isPart(body)) break;
    ctx.io.err(`${what}: call ${call} done (${((body.done as string[] | undefined) ?? []).join(', ')}); continuing`);
    payload = body.next as Record<string, unknown>;
  }
  return replies;
}

/** The one stderr line an incomplete operation ends with: what was left undone, and that repeating it finishes it. */
function incompleteLine(io: CliIo, what: string, body: Record<string, unknown>): void {
  if (body.ok === true) return;
  const why = typeof body.message === 'string' ? body.message : `${body.code ?? 'INCOMPLETE'}: ${((body.errors as string[] | undefined) ?? [])[0] ?? 'see the report above'}`;
  io.err(`admin: ${what}: ${why}`);
}

function verificationLine(v: { ok?: boolean; checked?: number; gone?: number; remaining?: string[]; failures?: { url: string; status: number | null }[] } | null | undefined): string {
  if (!v) return 'not verified';
  const head = `verified ${v.gone}/${v.checked} URLs answer 410, ${v.remaining?.length ?? 0} objects left`;
  const fails = (v.failures ?? [])
    .slice(0, 5)
    .map((f) => `\n    ${f.status ?? 'error'} ${f.url}`)
    .join('');
  return head + fails;
}

async function takedown(ctx: Ctx): Promise<number> {
  const { client, values, io, args } = ctx;
  const { tenant, id } = image(args);
  const what = `takedown ${tenant}/${id}`;
  // A service with a per-call request limit (Fastly) may split it: its parts answer 202 and `next`.
  const replies = await follow(ctx, 'takedown', { tenant, reason: required(values, 'reason'), ticket: required(values, 'ticket') }, { id }, what);
  const body = replies.at(-1)!;
  if (isPart(body)) {
    body.message = `still not complete after ${replies.length} calls (the service keeps answering "more"); run it again`;
  }
  // The service checked its own cache (Fastly: edge-cache, no backend request per URL): ask the public URLs too.
  const probes = (body.verification as { probes?: PublicProbe[] } | null | undefined)?.probes;
  const outside = probes?.length && !values['no-public-check'] ? await checkFromOutside(client.baseUrl, probes, io.fetch) : undefined;
  if (values.json) {
    const out = replies.length === 1 ? body : replies;
    io.out(JSON.stringify(outside ? (replies.length === 1 ? { ...body, publicCheck: outside } : { replies, publicCheck: outside }) : out, null, 2));
  } else {
    const deleted = new Set(replies.flatMap((b) => (b.deleted as string[] | undefined) ?? []));
    const purged = replies.flatMap((b) => (b.purge as { key: string; ok: boolean }[] | undefined) ?? []);
    io.out(`${what}: ${body.ok ? 'done' : 'INCOMPLETE'}${replies.length > 1 ? ` (in ${replies.length} calls)` : ''}`);
    io.out(`  deleted ${deleted.size} objects; purged ${[...new Set(purged.map((p) => `${p.key}${p.ok ? '' : ' (FAILED)'}`))].join(', ')}`);
    io.out(`  ${verificationLine(body.verification as never)}`);
    if (outside) io.out(`  ${publicCheckLine(outside)}`);
    for (const e of (body.errors as string[] | undefined) ?? []) io.out(`  error: ${e}`);
    io.out(`  audit ${replies.map((b) => (b.audit as { id?: string; error?: string })?.id ?? `NOT WRITTEN: ${(b.audit as { error?: string })?.error}`).join(', ')}`);
  }
  incompleteLine(io, what, body);
  const leak = outside?.failures[0];
  if (body.ok === true && leak) io.err(`admin: ${what}: ${outside!.failures.length} public URL(s) still served or unreachable from outside (${leak.status ?? leak.error ?? 'error'} ${leak.url})`);
  return body.ok === true && !leak ? 0 : 1;
}

async function erase(ctx: Ctx): Promise<number> {
  const { values, io, args } = ctx;
  if (args.length !== 1) throw new UsageError('expected one argument: <tenant>');
  const tenant = args[0]!;
  const legal = { reason: required(values, 'reason'), ticket: required(values, 'ticket') };
  const ids = await listArg(io, values.ids ? values.ids.split(',').filter(Boolean) : [], values['ids-file']);
  const modes = [ids.length > 0, values.prefix !== undefined, values.all === true].filter(Boolean).length;
  if (modes !== 1) throw new UsageError('give exactly one of --ids / --ids-file, --prefix, --all');
  if (values.all && values.confirm !== tenant) throw new UsageError(`--all erases every image of '${tenant}': add --confirm ${tenant}`);
  if (values.prefix === '') throw new UsageError('an empty --prefix is the whole tenant: use --all --confirm <tenant>');

  const replies: Record<string, unknown>[] = [];
  let erased = 0;
  if (ids.length) {
    const unique = [...new Set(ids)];
    let sent = 0;
    for (const chunk of chunks(unique, ERASE_CHUNK)) {
      // A service that may only do a few per call (Fastly's request limit) answers the rest as `remaining`.
      let part = chunk;
      while (part.length) {
        const chain = await follow(ctx, 'erase', { tenant, ...legal }, { ids: part }, `erase ${tenant}`);
        replies.push(...chain);
        // The first reply says which ids this call left for later; the parts after it finish the ones it took.
        const rest = Array.isArray(chain[0]!.remaining) ? (chain[0]!.remaining as string[]) : [];
        sent += part.length - rest.length;
        erased += chain.reduce((n, b) => n + Number(b.erased ?? 0), 0);
        io.err(`erase: ${sent}/${unique.length} ids sent, ${erased} erased`);
        if (chain.at(-1)!.ok !== true || rest.length >= part.length) break;
        part = rest;
      }
    }
  } else {
    const selector = values.all ? { prefix: '', confirm: tenant } : { prefix: values.prefix };
    for (let round = 1; round <= MAX_ERASE_ROUNDS; round++) {
      // A service that splits erasures lists in one call and answers the first id as `next`.
      const chain = await follow(ctx, 'erase', { tenant, ...legal }, selector, `erase ${tenant}`);
      replies.push(...chain);
      const roundErased = chain.reduce((n, b) => n + Number(b.erased ?? 0), 0);
      erased += roundErased;
      const more = chain[0]!.more === true;
      io.err(`erase: round ${round}, ${erased} erased${more ? ', more to go' : ''}`);
      // Stop on failure or when a round makes no progress (it would only repeat).
      if (!more || chain.at(-1)!.ok !== true || roundErased === 0) break;
    }
  }
  // Parts (202) are progress, not outcomes: every other reply must be ok, and the last one must be done.
  const last = replies.at(-1);
  const ok = replies.every((b) => b.ok === true || isPart(b)) && last?.ok === true && !last.more;
  if (values.json) io.out(JSON.stringify(replies, null, 2));
  else {
    for (const b of replies) {
      for (const i of (b.images as { id: string; ok: boolean; errors?: string[] }[]) ?? []) if (!i.ok) io.out(`FAILED ${tenant}/${i.id}: ${(i.errors ?? []).join('; ') || 'verification failed'}`);
    }
    io.out(`erase ${tenant}: ${ok ? 'done' : 'INCOMPLETE'}, ${erased} images erased; audit ${replies.map((b) => (b.audit as { id?: string })?.id ?? 'NOT WRITTEN').join(', ')}`);
  }
  const failed = replies.find((b) => b.ok !== true && !isPart(b)) ?? (ok ? undefined : { ...last, message: 'still not complete (the service keeps answering "more"); run it again' });
  if (failed) incompleteLine(io, `erase ${tenant}`, failed);
  return ok ? 0 : 1;
}

async function restore({ client, values, io, args }: Ctx): Promise<number> {
  const { tenant, id } = image(args);
  const body = expectReply(await client.call('POST', 'restore', { tenant, id, reason: required(values, 'reason'), ticket: values.ticket }));
  if (values.json) io.out(JSON.stringify(body, null, 2));
  else {
    const prev = body.previous as { ticket?: string; when?: string } | undefined;
    io.out(`restore ${tenant}/${id}: ${body.ok ? 'done' : 'INCOMPLETE'} (was taken down ${prev?.when ?? '?'} under ${prev?.ticket ?? '?'})`);
    io.out('  the original was deleted: upload it again to serve this id');
    io.out(`  audit ${(body.audit as { id?: string })?.id ?? 'NOT WRITTEN'}`);
  }
  incompleteLine(io, `restore ${tenant}/${id}`, body);
  return body.ok === true ? 0 : 1;
}

async function audit({ client, values, io }: Ctx): Promise<number> {
  const qs = new URLSearchParams();
  for (const k of ['from', 'to', 'limit'] as const) if (values[k]) qs.set(k, values[k]!);
  const entries: Record<string, unknown>[] = [];
  let cursor: string | undefined;
  do {
    if (cursor) qs.set('cursor', cursor);
    const body = expectReply(await client.call('GET', `audit?${qs}`));
    entries.push(...((body.entries as Record<string, unknown>[]) ?? []));
    cursor = values.all ? (body.cursor as string | undefined) : undefined;
  } while (cursor);
  if (values.json) io.out(JSON.stringify(entries, null, 2));
  else {
    for (const e of entries) {
      const target = e.target as { tenant: string; ids?: string[]; prefix?: string } | undefined;
      const what = target ? `${target.tenant}/${target.prefix !== undefined ? `${target.prefix}*` : (target.ids ?? []).join(',')}` : ((e.keys as string[]) ?? []).join(' ');
      io.out(
        `${e.when}  ${e.ok ? 'ok  ' : 'FAIL'}  ${String(e.action).padEnd(8)} ${String(e.who).padEnd(12)} ${what}${e.ticket ? `  [${e.ticket}]` : ''}${e.reason ? `  ${e.reason}` : ''}${e.incomplete ? `  (incomplete: ${e.incomplete})` : ''}`,
      );
    }
    if (entries.length === 0) io.out('no audit entries in that range');
  }
  return 0;
}

async function fastlyPurge(args: string[], values: Values, io: CliIo): Promise<number> {
  const keys = [...new Set(await listArg(io, args, values['keys-file']))];
  if (keys.length === 0) throw new UsageError('give at least one key (or --keys-file)');
  if (!values.service) throw new UsageError('--service <Fastly service id> is required');
  const token = io.env.FASTLY_API_TOKEN;
  if (!token) throw new UsageError('FASTLY_API_TOKEN is not set');
  const rate = values.rate === undefined ? 5 : Number(values.rate);
  if (!(rate > 0 && rate <= 100)) throw new UsageError('--rate must be a number of requests per second, 0 < rate <= 100');
  let purger;
  try {
    purger = createFastlyApiPurger({ serviceId: values.service, apiToken: token, apiBase: values['api-base'] ?? FASTLY_API, requestsPerSecond: rate, fetch: io.fetch });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const batches = Math.ceil(keys.length / purger.maxBatch!);
  const results = await purgeKeys(purger, keys, {
    soft: values.soft === true,
    // One batch at a time: the rate limit paces them anyway, and the purger retries 429/5xx itself.
    concurrency: 1,
    retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
    onProgress: (done, total) => io.err(`fastly-purge: ${Math.ceil(done / purger.maxBatch!)}/${batches} batches (${done}/${total} keys)`),
  });
  const failed = results.filter((r) => !r.ok);
  if (values.json) io.out(JSON.stringify({ ok: failed.length === 0, results }, null, 2));
  else {
    for (const r of results) io.out(`${r.ok ? 'purged' : 'FAILED'} ${r.key}${r.purgeId ? ` (purge id ${r.purgeId})` : ''}${r.error ? `: ${r.error}` : ''}`);
    io.out(`${values.soft ? 'soft-' : ''}purged ${results.length - failed.length}/${results.length} keys on service ${values.service} in ${purger.requests()} API calls`);
  }
  return failed.length === 0 ? 0 : 1;
}
