// Secret rotation: authbridge with AUTH_SECRET=new, AUTH_SECRET_1=old and AUTH_SECRET_2/_3
// older still (Auth.js's own rotation scheme) accepts session cookies written by Auth.js under
// any of them; NEXTAUTH_SECRET serves next-auth v4 cookies.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { encode as encodeV4 } from "next-auth-v4/jwt";

import {
  api,
  authjs,
  decodeSession,
  describe,
  encodeV5Raw,
  exampleConfig,
  randomSecret,
  signInCredentials,
  startAuthbridge,
  V4_COOKIE,
  V5_COOKIE,
} from "./helpers.mjs";

const PASSWORD = "correct horse battery staple";
const OLD = `old-${randomSecret()}`;
const NEW = `new-${randomSecret()}`;
const V4 = `v4-${randomSecret()}`;
const OLDER = `older-${randomSecret()}`;
const OLDEST = `oldest-${randomSecret()}`;
let server;
let aliceId;
let aliceRefresh; // an authbridge refresh token: what ties a session to its Django user

before(async () => {
  server = await startAuthbridge({
    AUTH_SECRET: NEW,
    AUTH_SECRET_1: OLD,
    AUTH_SECRET_2: OLDER,
    AUTH_SECRET_3: OLDEST,
    NEXTAUTH_SECRET: V4,
  });
  server.createUser("alice", { email: "a@example.com", password: PASSWORD });
  const r = await api(server, "POST", "/api/token/", { json: { username: "alice", password: PASSWORD } });
  assert.equal(r.status, 200, describe("POST /api/token/", r));
  aliceId = r.body.user_id;
  aliceRefresh = r.body.refresh;
});

after(async () => {
  await server?.stop();
});

async function signedInCookie(secret) {
  const config = exampleConfig(server, { secret });
  const { res, jar } = await signInCredentials(config, { username: "alice", password: PASSWORD });
  assert.equal(res.status, 200, res.text);
  const token = jar.sessionToken(V5_COOKIE);
  assert.ok(token, `no session cookie: ${res.setCookies}`);
  return { config, jar, token };
}

async function assertAccepted(cookie, what) {
  const s = await api(server, "GET", "/api/authjs/session", { headers: { Cookie: cookie } });
  assert.equal(s.status, 200, describe(`GET /api/authjs/session (${what})`, s));
  assert.equal(s.body.user.id, aliceId);
  assert.equal(s.body.user.username, "alice");
  const t = await api(server, "POST", "/api/authjs/token", { headers: { Cookie: cookie } });
  assert.equal(t.status, 200, describe(`POST /api/authjs/token (${what})`, t));
  assert.equal(t.body.user_id, aliceId);
}

test("cookie written by the old deployment (secret = old) is accepted", async () => {
  const { token } = await signedInCookie(OLD);
  await assertAccepted(`${V5_COOKIE}=${token}`, "cookie minted with AUTH_SECRET_1");
});

test("cookies written two and three rotations ago (AUTH_SECRET_2, AUTH_SECRET_3) are accepted", async () => {
  for (const [secret, name] of [
    [OLDER, "AUTH_SECRET_2"],
    [OLDEST, "AUTH_SECRET_3"],
  ]) {
    const { token } = await signedInCookie(secret);
    await assertAccepted(`${V5_COOKIE}=${token}`, `cookie minted with ${name}`);
  }
});

test("cookie written after rotation (secret = [new, old]) is accepted", async () => {
  const { token, config } = await signedInCookie([NEW, OLD]);
  await assertAccepted(`${V5_COOKIE}=${token}`, "cookie minted with AUTH_SECRET");
  // Auth.js itself still reads the old cookie and re-encodes it with the new secret.
  const old = await signedInCookie(OLD);
  const s = await authjs(config, old.jar, "GET", "/session");
  assert.equal(typeof s.body?.accessToken, "string", s.text);
  await assertAccepted(`${V5_COOKIE}=${old.jar.sessionToken(V5_COOKIE)}`, "old cookie re-encoded by Auth.js");
});

test("kid-less token under the current secret is accepted", async () => {
  // Auth.js decode() accepts tokens without `kid`, using the first secret (FACTS §3).
  const now = Math.floor(Date.now() / 1000);
  const t = await encodeV5Raw(
    { sub: String(aliceId), refreshToken: aliceRefresh, iat: now, exp: now + 3600, jti: crypto.randomUUID() },
    NEW,
  );
  assert.equal(JSON.parse(Buffer.from(t.split(".")[0], "base64url")).kid, undefined);
  // Sanity: the real Auth.js decoder reads it with [new, old].
  const claims = await decodeSession(t, [NEW, OLD]);
  assert.equal(claims.sub, String(aliceId));
  await assertAccepted(`${V5_COOKIE}=${t}`, "kid-less token, AUTH_SECRET");
});

test("cookie encrypted with a secret authbridge does not know -> 401", async () => {
  const { token } = await signedInCookie(randomSecret());
  const s = await api(server, "GET", "/api/authjs/session", { headers: { Cookie: `${V5_COOKIE}=${token}` } });
  assert.equal(s.status, 401, describe("GET /api/authjs/session (unknown secret)", s));
  const t = await api(server, "POST", "/api/authjs/token", { headers: { Cookie: `${V5_COOKIE}=${token}` } });
  assert.equal(t.status, 401, describe("POST /api/authjs/token (unknown secret)", t));
});

test("next-auth v4 cookie minted with NEXTAUTH_SECRET is accepted", async () => {
  const t = await encodeV4({ token: { sub: String(aliceId), refreshToken: aliceRefresh }, secret: V4 });
  await assertAccepted(`${V4_COOKIE}=${t}`, "v4 cookie, NEXTAUTH_SECRET");
});
