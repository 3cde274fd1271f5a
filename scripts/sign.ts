/**
 * Prints canonical signed URLs (query form and, when the variant has one, template form).
 *   npm run sign -- <tenant> <id> [--w 128] [--h 128] [--fit cover] [--g face] [--fmt webp] [--q 75] [--dpr 2] [--v 3]
 *                   [--ttl 3600 | --exp <unix seconds>] [--kid k1] [--key <secret>] [--base http://127.0.0.1:$PORT] [--json]
 * Keys come from the same configuration as `npm start` (AVATAR_CONFIG, default config/local.json,
 * and AVATAR_TENANT_KEYS), or from --key. Scheme: docs/signing.md.
 */
import { parseArgs } from 'node:util';
import { signUrl } from '../src/core/auth/sign-url.js';
import { ConfigError, loadServiceConfig } from '../src/core/config/service-config.js';
import { normalizeTenant, type Tenant } from '../src/core/config/tenant-config.js';
import { HttpError } from '../src/core/errors.js';
import { readServiceInput } from '../src/hosts/node/read-config.js';

const HELP = `Usage: npm run sign -- <tenant> <id> [options]

Prints a signed URL for one image variant, in both URL forms when possible:
  query form     /{tenant}/{id}?fmt=webp&fit=cover&h=128&q=75&w=128&exp=…&kid=…&sig=…
  template form  /{tenant}/{id}/{size}.{ext}?fit=cover&q=75&exp=…&kid=…&sig=…  (square size, explicit format)
Both carry the same signature. Values are canonicalized first (e.g. w=100 → the tenant's
next breakpoint), so the printed URL is exactly what the service will verify.

Image options:   --w N  --h N  --fit cover|contain|inside  --g center|face|auto  --fmt auto|webp|jpeg|png  --q N  --dpr N  --v VERSION
Signing options:
  --ttl SECONDS   lifetime from now (default 3600)
  --exp UNIX      absolute expiry instead of --ttl
  --kid ID        key id (default: the tenant's first configured key)
  --key SECRET    sign with this secret instead of the configured one (needs --kid)
  --base URL      prefix for the printed URLs (default http://127.0.0.1:$PORT, PORT as for npm start: 8080)
  --json          print a JSON object instead of text
  --help          this text

Configuration: AVATAR_CONFIG (default config/local.json) and AVATAR_TENANT_KEYS, as for npm start.
Scheme and test vector: docs/signing.md`;

function fail(msg: string): never {
  console.error(`sign: ${msg}\nRun with --help for usage.`);
  process.exit(2);
}

function main(): Promise<void> | void {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        w: { type: 'string' },
        h: { type: 'string' },
        fit: { type: 'string' },
        g: { type: 'string' },
        fmt: { type: 'string' },
        q: { type: 'string' },
        dpr: { type: 'string' },
        v: { type: 'string' },
        ttl: { type: 'string' },
        exp: { type: 'string' },
        kid: { type: 'string' },
        key: { type: 'string' },
        base: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    fail((e as Error).message);
  }
  const { values: o, positionals } = parsed;
  if (o.help) return void console.log(HELP);
  if (positionals.length !== 2) fail('expected exactly two arguments: <tenant> <id>');
  const [tenantName, id] = positionals as [string, string];

  const num = (name: string, raw: string | undefined): number | undefined => {
    if (raw === undefined) return undefined;
    if (!/^\d{1,12}$/.test(raw)) fail(`--${name} must be a whole number of seconds`);
    return Number(raw);
  };
  if (o.exp !== undefined && o.ttl !== undefined) fail('give --exp or --ttl, not both');
  if (o.key !== undefined && o.kid === undefined) fail('--key needs --kid (the key id the service knows the secret by)');
  // The URL `npm start` prints: same PORT, same default.
  const port = process.env.PORT?.trim() || '8080';
  if (o.base === undefined && !/^\d{1,5}$/.test(port)) fail(`PORT must be a port number, got '${process.env.PORT}' (or pass --base)`);

  let tenant: Tenant | undefined;
  try {
    tenant = loadServiceConfig(readServiceInput().input).tenants.get(tenantName);
  } catch (e) {
    if (!(e instanceof ConfigError) || o.key === undefined) throw e;
  }
  if (!tenant) {
    if (o.key === undefined) fail(`no tenant '${tenantName}' in the configuration (set AVATAR_CONFIG, or pass --kid and --key)`);
    // With an explicit key, sign for a tenant this config does not know, using default policy.
    const problems: string[] = [];
    tenant = normalizeTenant(tenantName, {}, problems);
    if (problems.length) fail(problems.join('; '));
    console.error(`sign: tenant '${tenantName}' is not configured here; canonicalizing with the default tenant policy`);
  }
  const kid = o.kid ?? Object.keys(tenant.keys)[0];
  if (!kid) fail(`tenant '${tenantName}' has no signing keys configured (pass --kid and --key)`);

  return signUrl({
    tenant,
    id,
    kid,
    key: o.key,
    exp: num('exp', o.exp),
    ttl: num('ttl', o.ttl),
    base: o.base ?? `http://127.0.0.1:${port}`,
    params: { w: o.w, h: o.h, fit: o.fit, g: o.g, fmt: o.fmt, q: o.q, dpr: o.dpr, v: o.v },
  }).then((r) => {
    if (o.json) {
      console.log(JSON.stringify({ url: r.url, templateUrl: r.templateUrl, payload: r.payload, kid: r.kid, exp: r.exp, sig: r.sig }, null, 2));
      return;
    }
    console.log(r.url);
    if (r.templateUrl) console.log(r.templateUrl);
    else console.error('# no template form: it needs a square size (w = h) and an explicit --fmt');
    console.error(`# kid ${r.kid}, expires ${new Date(r.exp * 1000).toISOString()} (exp=${r.exp}); signed payload: ${r.payload}`);
    if (!tenant.requireSignature) console.error(`# note: tenant '${tenant.name}' does not require signatures; the service ignores them`);
  });
}

try {
  await main();
} catch (e) {
  if (e instanceof HttpError || e instanceof RangeError) fail(e.message);
  if (e instanceof ConfigError) fail(e.message);
  throw e;
}
