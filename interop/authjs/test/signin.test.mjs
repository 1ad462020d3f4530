// Real Auth.js v5 (@auth/core Auth()) credentials sign-in against a live authbridge,
// using the example config (examples/authjs/authbridge-config.mjs).
import assert from "node:assert/strict";
import { after, before, describe as suite, test } from "node:test";

import {
  api,
  CookieJar,
  authjs,
  decodeSession,
  describe,
  exampleConfig,
  pyjwtDecode,
  djangoAuthenticate,
  signInCredentials,
  startAuthbridge,
  verifyHs256,
  V5_COOKIE,
} from "./helpers.mjs";

let server;
let config;
let aliceId;

before(async () => {
  server = await startAuthbridge();
  server.createUser("alice", { email: "a@example.com", password: "correct horse battery staple" });
  const r = await api(server, "POST", "/api/token/", {
    json: { username: "alice", password: "correct horse battery staple" },
  });
  assert.equal(r.status, 200, describe("POST /api/token/ (alice)", r));
  aliceId = r.body.user_id;
  config = exampleConfig(server);
});

after(async () => {
  await server?.stop();
});

suite("simplejwt token API as the seed uses it", () => {
  test("POST /api/token/ returns exactly {refresh, access, user_id}", async () => {
    const r = await api(server, "POST", "/api/token/", {
      json: { username: "alice", password: "correct horse battery staple" },
    });
    assert.equal(r.status, 200, describe("POST /api/token/", r));
    assert.deepEqual(Object.keys(r.body).sort(), ["access", "refresh", "user_id"]);
    assert.equal(typeof r.body.user_id, "number");
    assert.ok(Number.isInteger(r.body.user_id));
  });

  test("wrong password: 401 with simplejwt's body", async () => {
    const r = await api(server, "POST", "/api/token/", { json: { username: "alice", password: "nope" } });
    assert.equal(r.status, 401, describe("POST /api/token/ (wrong password)", r));
    assert.equal(typeof r.body?.detail, "string", r.text);
  });
});

suite("Auth.js credentials sign-in (FACTS §8)", () => {
  let jar;
  let signin;

  before(async () => {
    signin = await signInCredentials(config, { username: "alice", password: "correct horse battery staple" });
    jar = signin.jar;
  });

  test("POST /auth/callback/credentials succeeds and sets the session cookie", () => {
    const { res, callbackUrl } = signin;
    assert.equal(res.status, 200, `${res.status} ${res.text} log=${JSON.stringify(config.logger.entries)}`);
    assert.deepEqual(res.body, { url: callbackUrl }, JSON.stringify(config.logger.entries));
    assert.ok(jar.get(V5_COOKIE), `no ${V5_COOKIE} cookie; got ${jar.names()}`);
    const sc = res.setCookies.find((c) => c.startsWith(`${V5_COOKIE}=`));
    assert.match(sc, /HttpOnly/i);
    assert.match(sc, /SameSite=Lax/i);
    assert.match(sc, /Path=\//);
  });

  test("GET /auth/session exposes accessToken, which authbridge verifies", async () => {
    const s = await authjs(config, jar, "GET", "/session");
    assert.equal(s.status, 200, s.text);
    assert.equal(typeof s.body?.accessToken, "string", s.text);
    assert.equal(s.body.user.id, String(aliceId));
    assert.equal(s.body.error, undefined);
    const v = await api(server, "POST", "/api/token/verify/", { json: { token: s.body.accessToken } });
    assert.equal(v.status, 200, describe("POST /api/token/verify/", v));
    assert.deepEqual(v.body, {});
  });

  test("the session names who signed in (username, email), filled at sign-in", async () => {
    const s = await authjs(config, jar, "GET", "/session");
    assert.equal(s.status, 200, s.text);
    assert.equal(s.body.user.id, String(aliceId));
    assert.equal(s.body.user.username, "alice", s.text);
    assert.equal(s.body.user.email, "a@example.com", s.text);
    const claims = await decodeSession(jar.sessionToken(V5_COOKIE), config.secret);
    assert.equal(claims.username, "alice");
  });

  test("the access token has simplejwt's claims, signed HS256 with DJANGO_SECRET_KEY", async () => {
    const s = await authjs(config, jar, "GET", "/session");
    const { header, claims } = verifyHs256(s.body.accessToken, server.env.DJANGO_SECRET_KEY);
    assert.equal(header.typ, "JWT");
    assert.equal(claims.token_type, "access");
    assert.equal(claims.user_id, String(aliceId));
    for (const k of ["exp", "iat"]) assert.ok(Number.isInteger(claims[k]), `${k}: ${claims[k]}`);
    assert.equal(typeof claims.jti, "string");
    assert.ok(claims.exp > Date.now() / 1000);
    assert.ok(claims.exp - claims.iat <= 300 + 1, `lifetime ${claims.exp - claims.iat}`);
    const py = pyjwtDecode(s.body.accessToken, server.env.DJANGO_SECRET_KEY);
    if (py) assert.deepEqual(py, claims);
  });

  test("Django's own JWTAuthentication accepts session.accessToken", async () => {
    const s = await authjs(config, jar, "GET", "/session");
    const user = djangoAuthenticate(s.body.accessToken, server.env);
    assert.deepEqual(user, { id: aliceId, username: "alice" });
  });

  test("the session cookie holds the seed's claims shape", async () => {
    const claims = await decodeSession(jar.sessionToken(V5_COOKIE), config.secret);
    assert.equal(claims.sub, String(aliceId));
    assert.equal(typeof claims.accessToken, "string");
    assert.equal(typeof claims.refreshToken, "string");
    assert.equal(typeof claims.accessTokenExpires, "number");
    for (const k of ["iat", "exp"]) assert.equal(typeof claims[k], "number");
    assert.equal(typeof claims.jti, "string");
    const access = verifyHs256(claims.accessToken, server.env.DJANGO_SECRET_KEY).claims;
    assert.equal(claims.accessTokenExpires, access.exp);
    const refresh = verifyHs256(claims.refreshToken, server.env.DJANGO_SECRET_KEY).claims;
    assert.equal(refresh.token_type, "refresh");
    assert.equal(refresh.user_id, String(aliceId));
  });

  test("wrong password -> Auth.js CredentialsSignin error URL, no session cookie", async () => {
    const { res, jar: j } = await signInCredentials(config, { username: "alice", password: "wrong" });
    assert.equal(res.status, 200, res.text);
    const url = new URL(res.body.url);
    assert.equal(url.origin, "http://localhost:3000");
    assert.match(url.pathname, /^\/auth\/(signin|error)$/);
    assert.equal(url.searchParams.get("error"), "CredentialsSignin", res.body.url);
    assert.equal(url.searchParams.get("code"), "credentials");
    assert.equal(j.get(V5_COOKIE), undefined);
  });

  test("unknown user -> CredentialsSignin too", async () => {
    const { res } = await signInCredentials(config, { username: "mallory", password: "x" });
    assert.equal(new URL(res.body.url).searchParams.get("error"), "CredentialsSignin", res.text);
  });

  test("no cookie -> GET /auth/session is null", async () => {
    const s = await authjs(config, new CookieJar(), "GET", "/session");
    assert.equal(s.status, 200);
    assert.equal(s.body, null);
  });
});
