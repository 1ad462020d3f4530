// Access-token refresh in the example's jwt callback, under concurrency, against
// authbridge with ROTATE_REFRESH_TOKENS + BLACKLIST_AFTER_ROTATION and a refresh
// grace window.
//
// No test waits for time to pass (a busy machine would flake them):
// - "the access token has expired" is an access token minted with the server's key
//   and a past `exp` (the server is asked to confirm it refuses it as expired), put
//   into the session as Auth.js keeps it;
// - "the grace window has passed" is every recorded rotation moved an hour back in
//   authbridge's database (its own table `authbridge_refresh_rotation`): the server
//   has no clock to inject from outside, so its record of when is moved instead.
import assert from "node:assert/strict";
import { after, before, describe as suite, test } from "node:test";

import {
  api,
  authjs,
  decodeSession,
  describe,
  exampleConfig,
  REFRESH_TOKEN_ERROR,
  encodeV5Raw,
  signHs256,
  signInCredentials,
  startAuthbridge,
  verifyHs256,
  V5_COOKIE,
} from "./helpers.mjs";
import { execute } from "../../shared/db.mjs";

const PASSWORD = "correct horse battery staple";
// Long enough that the five concurrent refreshes land inside it however slow the
// machine; "after the grace window" is passGraceWindow() below.
const GRACE = 60; // seconds
const TABS = 5;
let server;
let aliceId;

before(async () => {
  server = await startAuthbridge({ SIMPLE_JWT_REFRESH_TOKEN_GRACE_PERIOD: GRACE });
  server.createUser("alice", { email: "a@example.com", password: PASSWORD });
  const r = await api(server, "POST", "/api/token/", { json: { username: "alice", password: PASSWORD } });
  assert.equal(r.status, 200, describe("POST /api/token/", r));
  aliceId = r.body.user_id;
});

after(async () => {
  await server?.stop();
});

/** Every rotation recorded so far happened an hour ago, well outside GRACE. */
function passGraceWindow() {
  const sqlite = server.env.DATABASE_URL.startsWith("sqlite:");
  // SQLite keeps Django's text timestamps; PostgreSQL a timestamptz.
  const earlier = sqlite ? `strftime('%Y-%m-%d %H:%M:%f', "rotated_at", '-1 hour')` : `"rotated_at" - interval '1 hour'`;
  const n = execute(server.env.DATABASE_URL, `UPDATE "authbridge_refresh_rotation" SET "rotated_at" = ${earlier}`);
  assert.ok(n > 0, `no rotation recorded to move back: ${n}`);
}

/** fetch that counts calls to /api/token/refresh/ */
function countingFetch() {
  const f = async (url, init) => {
    if (String(url).endsWith("/api/token/refresh/")) f.refreshCalls += 1;
    return fetch(url, init);
  };
  f.refreshCalls = 0;
  return f;
}

/**
 * The session's token state with its access token expired: the same claims re-signed
 * with the server's key, issued 10 minutes ago and expired 5 minutes ago (what the
 * state would be had the user come back later). The server confirms it is expired.
 */
async function expired(token) {
  const key = server.env.DJANGO_SECRET_KEY;
  const { claims } = verifyHs256(token.accessToken, key);
  const now = Math.floor(Date.now() / 1000);
  const accessToken = signHs256({ ...claims, iat: now - 600, exp: now - 300 }, key);
  const v = await api(server, "POST", "/api/token/verify/", { json: { token: accessToken } });
  assert.equal(v.status, 401, describe("POST /api/token/verify/ (expired access token)", v));
  assert.equal(v.body?.detail, "Token is expired", describe("POST /api/token/verify/", v));
  return { ...token, accessToken, accessTokenExpires: now - 300 };
}

/** A copy of `jar` whose v5 session cookie holds `token`, encrypted as Auth.js does. */
async function jarWithSession(jar, token, secret) {
  const j = jar.clone();
  for (const name of j.names()) if (name === V5_COOKIE || name.startsWith(`${V5_COOKIE}.`)) j.cookies.delete(name);
  j.cookies.set(V5_COOKIE, await encodeV5Raw(token, secret));
  return j;
}

async function assertValidAccess(access, what) {
  const v = await api(server, "POST", "/api/token/verify/", { json: { token: access } });
  assert.equal(v.status, 200, describe(`POST /api/token/verify/ (${what})`, v));
  const { claims } = verifyHs256(access, server.env.DJANGO_SECRET_KEY);
  assert.equal(claims.user_id, String(aliceId));
  assert.equal(claims.token_type, "access");
}

async function signIn() {
  const config = exampleConfig(server);
  const { res, jar } = await signInCredentials(config, { username: "alice", password: PASSWORD });
  assert.equal(res.status, 200, res.text);
  const token = await decodeSession(jar.sessionToken(V5_COOKIE), config.secret);
  return { config, jar, token };
}

suite("5 tabs, 5 app instances, same expired session cookie", () => {
  let start; // { jar, token } right after sign-in
  let tabs; // results of the concurrent GET /auth/session

  before(async () => {
    const signedIn = await signIn();
    const token = await expired(signedIn.token);
    start = { ...signedIn, token, jar: await jarWithSession(signedIn.jar, token, signedIn.config.secret) };
  });

  test("concurrent GET /auth/session: every tab refreshes and stays signed in", async () => {
    // Each tab's request lands on its own app instance (no shared in-process state),
    // so each one really spends the same refresh token at authbridge.
    const instances = Array.from({ length: TABS }, () => {
      const f = countingFetch();
      return { f, config: exampleConfig(server, { fetch: f }) };
    });
    tabs = await Promise.all(
      instances.map(async ({ config, f }) => {
        const jar = start.jar.clone();
        const s = await authjs(config, jar, "GET", "/session");
        return { s, jar, config, f };
      }),
    );
    const refreshCalls = tabs.reduce((n, t) => n + t.f.refreshCalls, 0);
    assert.equal(refreshCalls, TABS, "each instance should have called /api/token/refresh/ once");
    for (const [i, { s, jar, config }] of tabs.entries()) {
      assert.equal(s.status, 200, `tab ${i}: ${s.text}`);
      assert.ok(s.body, `tab ${i}: logged out (session null); Auth.js log: ${JSON.stringify(config.logger.entries)}`);
      assert.equal(s.body.error, undefined, `tab ${i}: session.error=${s.body.error} (refresh rejected)`);
      assert.notEqual(s.body.accessToken, start.token.accessToken, `tab ${i}: access token not refreshed`);
      await assertValidAccess(s.body.accessToken, `tab ${i} access token`);
      const claims = await decodeSession(jar.sessionToken(V5_COOKIE), config.secret);
      assert.equal(claims.accessToken, s.body.accessToken);
      assert.notEqual(claims.refreshToken, start.token.refreshToken, `tab ${i}: rotated refresh token not kept`);
      const r = verifyHs256(claims.refreshToken, server.env.DJANGO_SECRET_KEY).claims;
      assert.equal(r.token_type, "refresh");
      assert.equal(r.user_id, String(aliceId));
    }
  });

  test("after the grace window, the cookie the browser kept (last tab's) still refreshes", async () => {
    assert.ok(tabs, "previous test did not run");
    const last = tabs[tabs.length - 1];
    const token = await expired(await decodeSession(last.jar.sessionToken(V5_COOKIE), last.config.secret));
    passGraceWindow();
    const config = exampleConfig(server);
    const jar = await jarWithSession(last.jar, token, config.secret);
    const s = await authjs(config, jar, "GET", "/session");
    assert.equal(s.status, 200, s.text);
    assert.equal(s.body?.error, undefined, `refresh with the surviving refresh token failed: ${s.text}`);
    await assertValidAccess(s.body.accessToken, "access token after the grace window");
    last.newest = await decodeSession(jar.sessionToken(V5_COOKIE), config.secret);
    assert.notEqual(last.newest.refreshToken, token.refreshToken);
  });

  test("reusing the original refresh token after the grace window -> 401, and the family is revoked", async () => {
    const newest = tabs?.[tabs.length - 1]?.newest;
    assert.ok(newest, "previous test did not run");
    passGraceWindow();
    const reuse = await api(server, "POST", "/api/token/refresh/", { json: { refresh: start.token.refreshToken } });
    assert.equal(reuse.status, 401, describe("POST /api/token/refresh/ (original refresh token, after grace)", reuse));
    assert.equal(typeof reuse.body?.detail, "string");
    // Replay detected: the newest refresh token of the same family is dead too.
    const r = await api(server, "POST", "/api/token/refresh/", { json: { refresh: newest.refreshToken } });
    assert.equal(r.status, 401, describe("POST /api/token/refresh/ (newest refresh token of the revoked family)", r));
    // ...and the example turns that into session.error instead of throwing.
    const config = exampleConfig(server);
    const out = await config.callbacks.jwt({ token: { ...newest, accessTokenExpires: 0 } });
    assert.equal(out.error, REFRESH_TOKEN_ERROR);
    const session = await config.callbacks.session({ session: { user: {}, expires: "" }, token: out });
    assert.equal(session.error, REFRESH_TOKEN_ERROR);
  });

  test("a fresh sign-in is a new family and unaffected", async () => {
    const { token } = await signIn();
    const r = await api(server, "POST", "/api/token/refresh/", { json: { refresh: token.refreshToken } });
    assert.equal(r.status, 200, describe("POST /api/token/refresh/ (new family)", r));
  });
});

suite("the example's jwt callback called directly", () => {
  test("5 instances, concurrently, same expired token state: all get valid tokens", async () => {
    const token = await expired((await signIn()).token);
    const instances = Array.from({ length: TABS }, () => {
      const f = countingFetch();
      return { f, config: exampleConfig(server, { fetch: f }) };
    });
    const results = await Promise.all(instances.map(({ config }) => config.callbacks.jwt({ token: { ...token } })));
    assert.equal(
      instances.reduce((n, i) => n + i.f.refreshCalls, 0),
      TABS,
    );
    for (const [i, out] of results.entries()) {
      assert.ok(out, `instance ${i}: jwt returned ${out}`);
      assert.equal(out.error, undefined, `instance ${i}: ${out.error}`);
      await assertValidAccess(out.accessToken, `instance ${i}`);
      assert.notEqual(out.refreshToken, token.refreshToken);
      assert.equal(out.sub, String(aliceId));
      assert.ok(out.accessTokenExpires > Date.now() / 1000);
    }
  });

  test("one instance: concurrent callbacks share a single refresh request", async () => {
    const token = await expired((await signIn()).token);
    const f = countingFetch();
    const config = exampleConfig(server, { fetch: f });
    const results = await Promise.all(
      Array.from({ length: TABS }, () => config.callbacks.jwt({ token: { ...token } })),
    );
    assert.equal(f.refreshCalls, 1);
    for (const out of results) {
      assert.equal(out.error, undefined);
      assert.equal(out.accessToken, results[0].accessToken);
      assert.equal(out.refreshToken, results[0].refreshToken);
    }
    await assertValidAccess(results[0].accessToken, "shared refresh");
  });

  test("a token that is not about to expire is left alone", async () => {
    const { token } = await signIn();
    const f = countingFetch();
    const config = exampleConfig(server, { fetch: f });
    const out = await config.callbacks.jwt({ token: { ...token, accessTokenExpires: Date.now() / 1000 + 3600 } });
    assert.equal(f.refreshCalls, 0);
    assert.equal(out.accessToken, token.accessToken);
  });

  test("sequential rotation: each refresh keeps the new refresh token, which works next time", async () => {
    const { token } = await signIn();
    const config = exampleConfig(server);
    let state = token;
    const seen = new Set([state.refreshToken]);
    for (let i = 0; i < 3; i++) {
      state = await config.callbacks.jwt({ token: { ...state, accessTokenExpires: 0 } });
      assert.equal(state.error, undefined, `rotation ${i}`);
      assert.ok(!seen.has(state.refreshToken), `rotation ${i}: refresh token not rotated`);
      seen.add(state.refreshToken);
      await assertValidAccess(state.accessToken, `rotation ${i}`);
    }
  });
});
