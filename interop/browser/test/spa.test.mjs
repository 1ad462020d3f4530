// A single-page app in a real browser against a live authbridge on another origin.
//
// Debian's headless Chromium, driven by playwright-core, loads a page from
// http://localhost:APP and talks to authbridge at http://localhost:AUTH with
// fetch(..., {credentials: "include"}): log in (cookie mode: the refresh token lands in an
// HttpOnly cookie), call the JWTAuthentication-protected GET /api/me/ with the access token, let
// the access token expire, refresh through the cookie, log out. localhost:APP and localhost:AUTH
// are different origins of the same site, so the SameSite=Lax cookie is sent (as it would be
// between app.example.com and auth.example.com). Then pages the browser itself must block:
// http://127.0.0.1:OTHER (another site, not allowed by CORS) and http://localhost:HOSTILE (same
// site, not allowed by CORS; its "simple" cookie-carrying POST is refused by the CSRF check).
import { spawn, spawnSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

import { BACKEND, makeDatabase } from "../../shared/db.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, "../../..");
const BIN = process.env.AUTHBRIDGE_BIN || join(REPO, "target/debug/authbridge");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const USER = { username: "alice", password: "correct horse battery staple" };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Wait for something the browser reports asynchronously (a console message, a response event):
 * polls until `check()` holds or `limit` ms pass (a bound for a slow machine, not a wait for time).
 */
async function eventually(check, limit = 5000) {
  const deadline = Date.now() + limit;
  while (!check() && Date.now() < deadline) await sleep(20);
  return check();
}

/**
 * The same access token as `jwt` with `exp` already past, signed HS256 with the server's key: an
 * expired access token without waiting for one to expire.
 */
function expiredCopy(jwt, key) {
  const claims = JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());
  const now = Math.floor(Date.now() / 1000);
  const h = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");
  const p = Buffer.from(JSON.stringify({ ...claims, iat: now - 600, exp: now - 300 })).toString("base64url");
  return `${h}.${p}.${createHmac("sha256", key).update(`${h}.${p}`).digest("base64url")}`;
}

// The app: `api()` is what an SPA's fetch wrapper does; `forge()` is what any page can do without
// CORS (a form-encoded POST is a "simple" request: no preflight, cookies included, response opaque).
const page = (auth) => `<!doctype html>
<html><head><meta charset="utf-8"><title>SPA</title></head><body><h1>SPA</h1>
<script>
window.AUTH = ${JSON.stringify(auth)};
window.api = async (path, { method = "GET", body, token } = {}) => {
  const headers = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers["authorization"] = "Bearer " + token;
  try {
    const res = await fetch(window.AUTH + path, {
      method, headers, credentials: "include",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch {}
    return { status: res.status, body: json };
  } catch (e) {
    return { error: e.name + ": " + e.message };
  }
};
window.forge = async (path) => {
  const res = await fetch(window.AUTH + path, {
    method: "POST", mode: "no-cors", credentials: "include", body: new URLSearchParams(),
  });
  return { type: res.type, status: res.status };
};
</script></body></html>`;

/** A static server on 127.0.0.1:0 serving the page; the auth URL is filled in once known. */
async function pageServer(state) {
  const server = createServer((req, res) => {
    // The browser asks for a favicon on its own: answered, so its 404 does not reach the console.
    if (req.url === "/favicon.ico") {
      res.writeHead(204).end();
      return;
    }
    if (req.url !== "/") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page(state.auth));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { port: server.address().port, close: () => new Promise((r) => server.close(r)) };
}

async function startAuthbridge(env) {
  const dir = mkdtempSync(join(tmpdir(), "authbridge-browser-"));
  const database = makeDatabase(dir, "browser");
  const fullEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    RUST_LOG: process.env.RUST_LOG || "info,sqlx=warn",
    DATABASE_URL: database.url,
    DJANGO_SECRET_KEY: `interop-${randomBytes(48).toString("base64url")}`,
    PASSWORD_HASHERS: "django.contrib.auth.hashers.MD5PasswordHasher",
    ...env,
  };
  const created = spawnSync(BIN, ["createuser", USER.username, "--password-stdin"], {
    env: fullEnv,
    input: `${USER.password}\n`,
    encoding: "utf8",
    timeout: 60_000,
  });
  if (created.status !== 0) throw new Error(`createuser failed:\n${created.stdout}\n${created.stderr}`);
  const child = spawn(BIN, ["serve", "--bind", "127.0.0.1:0"], { env: fullEnv, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  const port = await new Promise((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`authbridge did not start:\n${output}`)), 60_000);
    const onData = (chunk) => {
      output += chunk;
      const m = output.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolvePort(Number(m[1]));
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`authbridge exited (${code}):\n${output}`)));
  });
  return {
    port,
    env: fullEnv,
    log: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      database.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let authbridge, context, userDataDir;
const servers = {};
const shared = { auth: "" };
const seen = []; // what the browser saw, printed at the end

before(async () => {
  assert.ok(existsSync(BIN), `authbridge binary not found at ${BIN}`);
  for (const name of ["app", "other", "hostile"]) servers[name] = await pageServer(shared);
  authbridge = await startAuthbridge({
    CORS_ALLOWED_ORIGINS: `http://localhost:${servers.app.port}`,
    CORS_ALLOW_CREDENTIALS: "true",
    JWT_AUTH_REFRESH_COOKIE: "refresh",
    JWT_AUTH_SAMESITE: "Lax",
    SIMPLE_JWT_ROTATE_REFRESH_TOKENS: "true",
    SIMPLE_JWT_BLACKLIST_AFTER_ROTATION: "true",
  });
  shared.auth = `http://localhost:${authbridge.port}`;
  userDataDir = mkdtempSync(join(tmpdir(), "authbridge-chromium-"));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  seen.push(
    `browser: ${context.browser()?.version() ?? "Chromium"} (${CHROMIUM}), authbridge at ${shared.auth} on ${BACKEND}`,
  );
});

after(async () => {
  await context?.close();
  await authbridge?.stop();
  for (const s of Object.values(servers)) await s.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

/** Open a page from one of the origins, recording its authbridge traffic and console errors. */
async function open(origin) {
  const p = await context.newPage();
  const consoleErrors = [];
  const responses = [];
  p.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  p.on("response", (r) => {
    if (r.url().startsWith(shared.auth)) {
      const h = r.headers();
      responses.push({
        method: r.request().method(),
        path: new URL(r.url()).pathname,
        status: r.status(),
        acao: h["access-control-allow-origin"] ?? null,
      });
    }
  });
  await p.goto(`${origin}/`);
  return { p, consoleErrors, responses, api: (path, opts) => p.evaluate(([a, b]) => window.api(a, b), [path, opts]) };
}

// What the browser's console must say about the requests the test makes fail on purpose: CORS
// refusals on the pages that are not allowed (and the CSRF check's 403), the deliberate 401 (expired token) and 400 (no
// cookie after logout) on the app's page. Anything else in the console fails the test.
const BLOCKED = [/blocked by CORS policy/, /Failed to load resource: net::ERR_FAILED/];
// The hostile page's forged logout: the CSRF check's 403.
const HOSTILE_EXPECTED = [...BLOCKED, /Failed to load resource: the server responded with a status of 403/];
const APP_EXPECTED = [/Failed to load resource: the server responded with a status of (400|401)/];

/** Asserts every console error of `page` is one of `expected`; returns a one-line account of them. */
function expectedOnly(page, expected, what) {
  const unexpected = page.consoleErrors.filter((e) => !expected.some((re) => re.test(e)));
  assert.deepEqual(unexpected, [], `unexpected console errors:\n${unexpected.join("\n")}`);
  return `${page.consoleErrors.length} console error(s), all expected: ${what}`;
}

// All cookies, not `cookies(url)`: that filters by the URL's path, and this one is Path=/api/token/.
async function refreshCookie() {
  return (await context.cookies()).find((c) => c.name === "refresh" && c.domain === "localhost");
}

test("SPA on another origin: login, protected view, refresh through the cookie, logout; other origins blocked", async (t) => {
  const appOrigin = `http://localhost:${servers.app.port}`;
  const app = await open(appOrigin);

  // Log in: only the access token comes back in the body; the refresh token is an HttpOnly cookie.
  const login = await app.api("/api/token/", { method: "POST", body: USER });
  assert.equal(login.status, 200, JSON.stringify(login));
  assert.deepEqual(Object.keys(login.body), ["access", "user_id"]);
  const cookie = await refreshCookie();
  assert.ok(cookie, "refresh cookie stored by the browser");
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, "Lax");
  assert.equal(cookie.path, "/api/token/");
  assert.equal(cookie.domain, "localhost");
  assert.equal(cookie.secure, false);
  const visible = await app.p.evaluate(() => document.cookie);
  assert.ok(!visible.includes("refresh"), "not readable from JavaScript");
  seen.push(
    `${appOrigin}: POST /api/token/ -> 200 body keys [${Object.keys(login.body)}]; cookie refresh ` +
      `(HttpOnly=${cookie.httpOnly}, SameSite=${cookie.sameSite}, Path=${cookie.path}, Secure=${cookie.secure}); ` +
      `document.cookie=${JSON.stringify(visible)}`,
  );

  // The protected view with the access token.
  let me = await app.api("/api/me/", { token: login.body.access });
  assert.equal(me.status, 200);
  assert.equal(me.body.username, USER.username);
  seen.push(`${appOrigin}: GET /api/me/ with Bearer -> 200 ${JSON.stringify(me.body)}`);

  // The access token expires (the same token with its `exp` past, signed with the server's key)...
  const expired = expiredCopy(login.body.access, authbridge.env.DJANGO_SECRET_KEY);
  me = await app.api("/api/me/", { token: expired });
  assert.equal(me.status, 401);
  assert.equal(me.body.code, "token_not_valid");
  assert.equal(me.body.messages?.[0]?.message, "Token is expired", JSON.stringify(me.body));
  seen.push(`${appOrigin}: GET /api/me/ with the access token expired -> 401 ${me.body.messages?.[0]?.message}`);

  // ...and the cookie gets a new one (rotated: the cookie changes too).
  const refreshed = await app.api("/api/token/refresh/", { method: "POST", body: {} });
  assert.equal(refreshed.status, 200, JSON.stringify(refreshed));
  assert.deepEqual(Object.keys(refreshed.body), ["access"]);
  const rotated = await refreshCookie();
  assert.notEqual(rotated.value, cookie.value, "refresh cookie rotated");
  me = await app.api("/api/me/", { token: refreshed.body.access });
  assert.equal(me.status, 200);
  seen.push(`${appOrigin}: POST /api/token/refresh/ with body {} (cookie) -> 200 [access], cookie rotated; /api/me/ -> 200`);

  // Another site, not allowed by CORS: the browser blocks it (the preflight has no CORS headers).
  const otherOrigin = `http://127.0.0.1:${servers.other.port}`;
  const other = await open(otherOrigin);
  const blockedLogin = await other.api("/api/token/", { method: "POST", body: USER });
  assert.match(blockedLogin.error ?? "", /TypeError/, JSON.stringify(blockedLogin));
  const blockedMe = await other.api("/api/me/", { token: refreshed.body.access });
  assert.match(blockedMe.error ?? "", /TypeError/, JSON.stringify(blockedMe));
  assert.ok(
    await eventually(() => other.consoleErrors.some((e) => /blocked by CORS policy/.test(e))),
    other.consoleErrors.join("\n"),
  );
  seen.push(`${otherOrigin}: POST /api/token/ and GET /api/me/ -> blocked by the browser, as expected (fetch rejected)`);
  seen.push(`${otherOrigin}: ${expectedOnly(other, BLOCKED, "the browser's CORS refusals")}`);

  // Same site, other origin, not allowed: CORS blocks reading, and a cookie-carrying "simple"
  // POST (which needs no preflight) is refused by the CSRF check, so the session survives.
  const hostileOrigin = `http://localhost:${servers.hostile.port}`;
  const hostile = await open(hostileOrigin);
  const stolen = await hostile.api("/api/token/refresh/", { method: "POST", body: {} });
  assert.match(stolen.error ?? "", /TypeError/, JSON.stringify(stolen));
  const forged = await hostile.p.evaluate(() => window.forge("/api/token/blacklist/"));
  assert.equal(forged.type, "opaque");
  // (Chromium may not report an opaque response at all: then this waits its bound, 1 s.)
  await eventually(() => hostile.responses.some((r) => r.path === "/api/token/blacklist/"), 1000);
  const forgedSeen = hostile.responses.find((r) => r.path === "/api/token/blacklist/");
  if (forgedSeen) assert.equal(forgedSeen.status, 403, "the CSRF check refused the forged logout");
  seen.push(
    `${hostileOrigin}: fetch POST /api/token/refresh/ -> blocked by the browser, as expected; no-cors form POST ` +
      `/api/token/blacklist/ with the cookie -> ${forged.type} response (server status ${forgedSeen?.status ?? "not reported"}; ` +
      `a 403 rather than the 400 "field required" means the cookie was sent and the CSRF check refused it)`,
  );
  seen.push(`${hostileOrigin}: ${expectedOnly(hostile, HOSTILE_EXPECTED, "CORS refusals and the CSRF check's 403")}`);
  const still = await app.api("/api/token/refresh/", { method: "POST", body: {} });
  assert.equal(still.status, 200, "the forged logout did not blacklist the session");
  seen.push(`${appOrigin}: POST /api/token/refresh/ after the forged logout -> 200 (session intact)`);

  // Log out: the token is blacklisted and the cookie cleared.
  const logout = await app.api("/api/token/blacklist/", { method: "POST", body: {} });
  assert.equal(logout.status, 200);
  assert.deepEqual(logout.body, {});
  assert.equal(await refreshCookie(), undefined, "refresh cookie cleared");
  const afterLogout = await app.api("/api/token/refresh/", { method: "POST", body: {} });
  assert.equal(afterLogout.status, 400);
  assert.deepEqual(afterLogout.body, { refresh: ["This field is required."] });
  seen.push(
    `${appOrigin}: POST /api/token/blacklist/ -> 200 {}, cookie gone; refresh -> 400 ${JSON.stringify(afterLogout.body)}`,
  );

  for (const r of app.responses) {
    assert.equal(r.acao, appOrigin, `${r.method} ${r.path} carries Access-Control-Allow-Origin`);
  }
  seen.push(
    `${appOrigin} responses: ` + app.responses.map((r) => `${r.method} ${r.path} ${r.status} ACAO=${r.acao}`).join("; "),
  );
  seen.push(`${appOrigin}: ${expectedOnly(app, APP_EXPECTED, "the expired token's 401 and the logged-out refresh's 400")}`);

  for (const line of seen) t.diagnostic(line);
});
