// SPDX-License-Identifier: MIT
// sdk_conformance.mjs - drives cfemu with Cloudflare's official TypeScript SDK (npm `cloudflare`,
// the version pinned in package.json), through the SDK's own methods only: a client we did not
// write. Run by test_sdk_conformance.py, which installs the SDK, starts cfemu and sets:
//   CFEMU_ORIGIN           https://127.0.0.1:<port>
//   CFEMU_CREDS            cfemu's creds file (KEY=VALUE, mode 0600): ids and secrets of the seed
//   ROTP_PERM_GROUPS_JSON  the permission-group catalogue cfemu carries
//   NODE_EXTRA_CA_CERTS    cfemu's CA, so TLS is verified for real
// Prints one line per check ("ok" / "not ok") and never a secret; exits 1 if any check failed.
import { readFileSync } from 'node:fs';
import Cloudflare from 'cloudflare';

const origin = process.env.CFEMU_ORIGIN;
const baseURL = `${origin}/client/v4`;
const creds = Object.fromEntries(
  readFileSync(process.env.CFEMU_CREDS, 'utf8')
    .split('\n')
    .filter((l) => l.includes('='))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
);
const catalogue = JSON.parse(readFileSync(process.env.ROTP_PERM_GROUPS_JSON, 'utf8')).groups;
const secrets = new Set(Object.entries(creds).filter(([k]) => /VALUE|SECRET/.test(k)).map(([, v]) => v));
const account = creds.CFEMU_ACCOUNT_ID;
const zone = creds.CFEMU_ZONE_ID;
const ZONE_READ = 'c8fed203ed3043cba015a93ad1616f1f';

let failed = 0;
let count = 0;

// Any secret the checks handle is masked in what they print.
function masked(text) {
  let out = String(text);
  for (const s of secrets) if (s && out.includes(s)) out = out.split(s).join('<secret>');
  return out;
}

function check(cond, what, detail = '') {
  count++;
  if (cond) {
    console.log(`ok ${count} - ${what}`);
  } else {
    failed++;
    console.log(`not ok ${count} - ${what}${detail ? ': ' + masked(detail) : ''}`);
  }
  return cond;
}

// Runs a check body; an exception is a failed check, not a crash.
async function step(what, fn) {
  try {
    await fn();
  } catch (e) {
    check(false, what, `${e?.constructor?.name}: ${e?.message}`);
  }
}

function client(apiToken, extra = {}) {
  return new Cloudflare({ apiToken, baseURL, ...extra });
}

// The SDK error class a call ends in (null if it succeeds).
async function errorOf(promise) {
  try {
    await promise;
    return null;
  } catch (e) {
    return e;
  }
}

async function count_all(iterable) {
  let n = 0;
  for await (const _ of iterable) n++;
  return n;
}

function remember(value) {
  secrets.add(value);
  return value;
}

const mgmt = client(creds.CFEMU_TOKEN_MGMT_VALUE);
const zoneReadPolicy = [
  {
    effect: 'allow',
    permission_groups: [{ id: ZONE_READ }],
    resources: { [`com.cloudflare.api.account.zone.${zone}`]: '*' },
  },
];

// Probe cfemu's Access-protected origin with a service token (not an SDK call: the app, not the API).
async function probe(app, clientId, secret) {
  const r = await fetch(`${origin}/cdn-cgi/access/probe/${app}`, {
    headers: { 'CF-Access-Client-Id': clientId, 'CF-Access-Client-Secret': secret },
  });
  await r.text();
  return r.status;
}

async function userTokenRoll() {
  const created = await mgmt.user.tokens.create({ name: 'sdk-user', policies: zoneReadPolicy });
  const v0 = remember(created.value);
  check(v0.startsWith('cfut_'), 'user.tokens.create returns a cfut_ value');
  const verified = await client(v0).user.tokens.verify();
  check(verified.id === created.id && verified.status === 'active', 'user.tokens.verify: the new token');
  // The SDK's roll sends no body at all; with options.body it sends {}.
  const v1 = remember(await mgmt.user.tokens.value.update(created.id));
  check(typeof v1 === 'string' && v1.startsWith('cfut_') && v1 !== v0, 'user.tokens.value.update (no body) rolls');
  const v2 = remember(await mgmt.user.tokens.value.update(created.id, { body: {} }));
  check(typeof v2 === 'string' && v2 !== v1, 'user.tokens.value.update with body {} rolls');
  const again = await client(v2).user.tokens.verify();
  check(again.id === created.id, 'the rolled value verifies, same token id');
  for (const old of [v0, v1]) {
    const e = await errorOf(client(old, { maxRetries: 0 }).user.tokens.verify());
    check(e instanceof Cloudflare.AuthenticationError && e.status === 401, 'an old user value is 401 AuthenticationError', String(e));
  }
  const got = await mgmt.user.tokens.get(created.id);
  check(got.name === 'sdk-user' && got.policies?.[0]?.permission_groups?.[0]?.id === ZONE_READ, 'user.tokens.get: name and policy kept');
  return created.id;
}

async function accountTokenRoll() {
  const created = await mgmt.accounts.tokens.create({ account_id: account, name: 'sdk-account', policies: zoneReadPolicy });
  const v0 = remember(created.value);
  check(v0.startsWith('cfat_'), 'accounts.tokens.create returns a cfat_ value');
  const verified = await client(v0).accounts.tokens.verify({ account_id: account });
  check(verified.id === created.id && verified.status === 'active', 'accounts.tokens.verify: the new token');
  const v1 = remember(await mgmt.accounts.tokens.value.update(created.id, { account_id: account }));
  check(typeof v1 === 'string' && v1.startsWith('cfat_') && v1 !== v0, 'accounts.tokens.value.update rolls');
  const now = await client(v1).accounts.tokens.verify({ account_id: account });
  check(now.id === created.id, 'the rolled account value verifies, same token id');
  let e = await errorOf(client(v0, { maxRetries: 0 }).accounts.tokens.verify({ account_id: account }));
  check(e instanceof Cloudflare.AuthenticationError, 'the old account value is 401 AuthenticationError', String(e));
  e = await errorOf(client(v1, { maxRetries: 0 }).user.tokens.verify());
  check(e instanceof Cloudflare.AuthenticationError, 'an account token on user.tokens.verify is 401', String(e));
  return created.id;
}

async function listings(userId, accountId) {
  const ids = [];
  for await (const t of mgmt.user.tokens.list({ per_page: 5 })) ids.push(t.id);
  check(ids.includes(userId) && ids.includes(creds.CFEMU_TOKEN_MGMT_ID), 'user.tokens.list pages through every token', `${ids.length} listed`);
  check(!JSON.stringify(ids).includes('cfut_'), 'user.tokens.list shows no value');
  const acct = [];
  for await (const t of mgmt.accounts.tokens.list({ account_id: account })) acct.push(t.id);
  check(acct.includes(accountId), 'accounts.tokens.list has the account token');

  const userGroups = catalogue.length;
  const accountGroups = catalogue.filter((g) => !g.scopes.includes('com.cloudflare.api.user')).length;
  check((await count_all(mgmt.user.tokens.permissionGroups.list())) === userGroups, `user.tokens.permissionGroups.list: all ${userGroups} groups`);
  check((await count_all(mgmt.accounts.tokens.permissionGroups.list({ account_id: account }))) === accountGroups, `accounts.tokens.permissionGroups.list: ${accountGroups} (no user groups)`);
  const logs = [];
  for await (const g of mgmt.user.tokens.permissionGroups.list({ name: 'Logs Read' })) logs.push(g);
  check(logs.length === 2, "permissionGroups.list({name: 'Logs Read'}): both scopes");
  const zoneLogs = [];
  for await (const g of mgmt.user.tokens.permissionGroups.list({ name: 'Logs Read', scope: 'com.cloudflare.api.account.zone' })) zoneLogs.push(g);
  check(zoneLogs.length === 1 && zoneLogs[0].scopes?.[0] === 'com.cloudflare.api.account.zone', 'permissionGroups.list with name and scope: one');
}

async function serviceToken() {
  const st = mgmt.zeroTrust.access.serviceTokens;
  const app = creds.CFEMU_APP_VAULT_ID; // admits any valid service token of the account
  const created = await st.create({ account_id: account, name: 'sdk-service-token', duration: '8760h' });
  const s0 = remember(created.client_secret);
  check(created.client_id?.endsWith('.access') && typeof s0 === 'string' && s0.length >= 32, 'serviceTokens.create: client id and secret');
  check((await probe(app, created.client_id, s0)) === 200, 'the new service token passes the Access app');

  const r1 = await st.rotate(created.id, { account_id: account });
  const s1 = remember(r1.client_secret);
  check(r1.client_id === created.client_id && s1 !== s0, 'serviceTokens.rotate (no grace): same client id, new secret');
  check((await probe(app, created.client_id, s1)) === 200, 'rotated secret passes');
  check((await probe(app, created.client_id, s0)) === 401, 'without a grace the old secret dies at once');

  const until = new Date(Date.now() + 3600 * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  const r2 = await st.rotate(created.id, { account_id: account, previous_client_secret_expires_at: until });
  const s2 = remember(r2.client_secret);
  check(r2.client_id === created.client_id && s2 !== s1, 'serviceTokens.rotate with previous_client_secret_expires_at');
  check((await probe(app, created.client_id, s2)) === 200 && (await probe(app, created.client_id, s1)) === 200, 'inside the grace old and new secrets both pass');

  const listed = [];
  for await (const t of st.list({ account_id: account, name: 'sdk-service-token' })) listed.push(t);
  check(listed.length === 1 && !('client_secret' in listed[0]), 'serviceTokens.list by name, no secret');
  const deleted = await st.delete(created.id, { account_id: account });
  check(deleted.id === created.id, 'serviceTokens.delete returns the token');
  const e = await errorOf(st.get(created.id, { account_id: account }));
  check(e instanceof Cloudflare.NotFoundError && e.status === 404, 'get after delete is 404 NotFoundError', String(e));
}

async function errorClasses() {
  let e = await errorOf(client('A'.repeat(40), { maxRetries: 0 }).user.tokens.verify());
  check(e instanceof Cloudflare.AuthenticationError && e.status === 401, '401 is AuthenticationError', String(e));
  e = await errorOf(client(creds.CFEMU_TOKEN_READONLY_VALUE, { maxRetries: 0 }).user.tokens.list().then((p) => p));
  check(e instanceof Cloudflare.PermissionDeniedError && e.status === 403, '403 is PermissionDeniedError', String(e));
  e = await errorOf(mgmt.user.tokens.get('0123456789abcdef0123456789abcdef'));
  check(e instanceof Cloudflare.NotFoundError && e.status === 404, '404 is NotFoundError', String(e));
  // A 429 the SDK would retry: queued through cfemu's control API, seen with retries off.
  const f = await fetch(`${origin}/__cfemu/faults`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ method: 'GET', path: '/client/v4/user/tokens', kind: 'rate_limit', retry_after: 7 }),
  });
  check(f.status === 200, 'cfemu queued a 429');
  e = await errorOf(mgmt.user.tokens.list({}, { maxRetries: 0 }).then((p) => p));
  check(e instanceof Cloudflare.RateLimitError && e.status === 429 && e.headers?.get?.('retry-after') === '7', '429 is RateLimitError with Retry-After', String(e));
  check(e?.errors?.[0]?.code === 971 || JSON.stringify(e?.error ?? '').includes('971'), 'the 429 carries code 971', JSON.stringify(e?.error ?? null));
}

let userId;
let accountId;
await step('user token roll', async () => { userId = await userTokenRoll(); });
await step('account token roll', async () => { accountId = await accountTokenRoll(); });
await step('listings', () => listings(userId, accountId));
await step('service token', serviceToken);
await step('error classes', errorClasses);
const sdkVersion = JSON.parse(readFileSync('node_modules/cloudflare/package.json', 'utf8')).version;
console.log(`sdk: cloudflare ${sdkVersion} on node ${process.version}: ${count} checks, ${failed} failed`);
process.exit(failed === 0 && count > 0 ? 0 : 1);
