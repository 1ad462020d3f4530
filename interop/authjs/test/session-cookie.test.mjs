// authbridge reads the session token that real Auth.js wrote:
// GET /api/authjs/session and POST /api/authjs/token, by cookie (plain, __Secure-,
// chunked, v4) and by Authorization: Bearer; plus CSRF checks on cookie POSTs.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe as suite, test } from "node:test";

import { encode as encodeV5 } from "@auth/core/jwt";
import { encode as encodeV4 } from "next-auth-v4/jwt";

import {
  api,
  authjs,
  decodeSession,
  describe,
  exampleConfig,
  randomSecret,
  sessionCookieHeader,
  signInCredentials,
  startAuthbridge,
  verifyHs256,
  V4_COOKIE,
  V4_SECURE_COOKIE,
  V5_COOKIE,
  V5_SECURE_COOKIE,
} from "./helpers.mjs";

const PASSWORD = "correct horse battery staple";
let server;
let config;
let alice; // { id, jar, token, claims, refresh }
let bobId;

const expectedUser = (id) => ({
  id,
  username: "alice",
  email: "a@example.com",
  is_staff: false,
  is_superuser: false,
});

before(async () => {
  server = await startAuthbridge({ AUTHBRIDGE_TRUSTED_ORIGINS: "https://app.example" });
  server.createUser("alice", { email: "a@example.com", password: PASSWORD });
  server.createUser("bob", { email: "b@example.com", password: "bob's password" });
  config = exampleConfig(server);
  const { res, jar } = await signInCredentials(config, { username: "alice", password: PASSWORD });
  assert.equal(res.status, 200, res.text);
  const token = jar.sessionToken(V5_COOKIE);
  assert.ok(token, `Auth.js set no session cookie: ${res.setCookies}`);
  const claims = await decodeSession(token, config.secret);
  alice = { id: Number(claims.sub), jar, token, claims, refresh: claims.refreshToken };
  const b = await api(server, "POST", "/api/token/", { json: { username: "bob", password: "bob's password" } });
  assert.equal(b.status, 200, describe("POST /api/token/ (bob)", b));
  bobId = b.body.user_id;
});

after(async () => {
  await server?.stop();
});

async function sessionWith(headers) {
  return api(server, "GET", "/api/authjs/session", { headers });
}
async function tokenWith(headers) {
  return api(server, "POST", "/api/authjs/token", { headers });
}

function assertAlice(r, what) {
  assert.equal(r.status, 200, describe(what, r));
  assert.deepEqual(r.body.user, expectedUser(alice.id), describe(what, r));
}

function assertTokenPair(r, userId, what) {
  assert.equal(r.status, 200, describe(what, r));
  assert.deepEqual(Object.keys(r.body).sort(), ["access", "refresh", "user_id"], describe(what, r));
  assert.equal(r.body.user_id, userId);
  const access = verifyHs256(r.body.access, server.env.DJANGO_SECRET_KEY).claims;
  assert.equal(access.token_type, "access");
  assert.equal(access.user_id, String(userId));
  const refresh = verifyHs256(r.body.refresh, server.env.DJANGO_SECRET_KEY).claims;
  assert.equal(refresh.token_type, "refresh");
}

function assert401(r, what) {
  assert.equal(r.status, 401, describe(what, r));
  assert.equal(typeof r.body?.detail, "string", describe(what, r));
  assert.equal(typeof r.body?.code, "string", describe(what, r));
}

suite("cookie written by Auth.js v5 sign-in", () => {
  test("GET /api/authjs/session with the Cookie header the browser would send", async () => {
    const r = await sessionWith({ Cookie: alice.jar.header() }); // includes csrf + callback-url cookies
    assertAlice(r, "GET /api/authjs/session (Cookie: browser jar)");
    assert.equal(r.body.session.sub, String(alice.id));
    assert.equal(r.body.session.accessToken, alice.claims.accessToken);
    assert.equal(r.body.session.jti, alice.claims.jti);
    // The refresh token Auth.js keeps inside the HttpOnly cookie is never echoed back.
    assert.equal(typeof alice.claims.refreshToken, "string");
    assert.equal(r.body.session.refreshToken, undefined);
    assert.ok(!r.text.includes(alice.claims.refreshToken), r.text);
  });

  test("POST /api/authjs/token (no Origin: server-to-server) returns a token pair for alice", async () => {
    const r = await tokenWith({ Cookie: `${V5_COOKIE}=${alice.token}` });
    assertTokenPair(r, alice.id, "POST /api/authjs/token (Cookie)");
    const v = await api(server, "POST", "/api/token/verify/", { json: { token: r.body.access } });
    assert.equal(v.status, 200, describe("verify", v));
    const rr = await api(server, "POST", "/api/token/refresh/", { json: { refresh: r.body.refresh } });
    assert.equal(rr.status, 200, describe("POST /api/token/refresh/ with the exchanged refresh", rr));
    assert.deepEqual(Object.keys(rr.body).sort(), ["access", "refresh"]);
  });

  test("Authorization: Bearer <JWE> works for both endpoints", async () => {
    const s = await sessionWith({ Authorization: `Bearer ${alice.token}` });
    assertAlice(s, "GET /api/authjs/session (Bearer)");
    const t = await tokenWith({ Authorization: `Bearer ${alice.token}` });
    assertTokenPair(t, alice.id, "POST /api/authjs/token (Bearer)");
  });

  test("after a rolling GET /auth/session the re-encoded cookie is still accepted", async () => {
    const jar = alice.jar.clone();
    const s = await authjs(config, jar, "GET", "/session");
    assert.equal(s.status, 200);
    const token = jar.sessionToken(V5_COOKIE);
    assert.notEqual(token, alice.token);
    assertAlice(await sessionWith({ Cookie: `${V5_COOKIE}=${token}` }), "GET /api/authjs/session (re-encoded)");
  });

  test("https app: Auth.js writes __Secure-authjs.session-token, authbridge reads it", async () => {
    const { res, jar } = await signInCredentials(config, {
      username: "alice",
      password: PASSWORD,
      appOrigin: "https://app.example",
    });
    assert.equal(res.status, 200, res.text);
    assert.ok(jar.get(V5_SECURE_COOKIE), `cookies: ${jar.names()}`);
    assertAlice(
      await sessionWith({ Cookie: jar.header() }),
      "GET /api/authjs/session (Cookie: __Secure-authjs.session-token)",
    );
  });

  test("chunked session cookie (.0, .1, ...) written by Auth.js", async () => {
    const big = randomBytes(3000).toString("hex"); // 6000 chars -> token > 3936 chars
    const bigConfig = {
      ...config,
      callbacks: {
        ...config.callbacks,
        async jwt(params) {
          const token = await config.callbacks.jwt(params);
          return params.user ? { ...token, big } : token;
        },
      },
    };
    const { res, jar } = await signInCredentials(bigConfig, { username: "alice", password: PASSWORD });
    assert.equal(res.status, 200, res.text);
    const chunks = jar.names().filter((n) => n.startsWith(`${V5_COOKIE}.`));
    assert.ok(chunks.length >= 2, `expected chunks, got ${jar.names()}`);
    assert.equal(jar.get(V5_COOKIE), undefined);
    const r = await sessionWith({ Cookie: jar.header() });
    assertAlice(r, `GET /api/authjs/session (chunked: ${chunks.join(", ")})`);
    // Only the allow-listed claims are echoed (finding 9); `big` stays in the cookie.
    assert.equal(r.body.session.big, undefined);
    assert.equal(r.body.session.jti, (await decodeSession(jar.sessionToken(V5_COOKIE), config.secret)).jti);
    // Chunks in reverse order in the header: authbridge must sort by index.
    const reversed = jar
      .header()
      .split("; ")
      .reverse()
      .join("; ");
    assertAlice(await sessionWith({ Cookie: reversed }), "GET /api/authjs/session (chunks reversed)");
    assertTokenPair(await tokenWith({ Cookie: jar.header() }), alice.id, "POST /api/authjs/token (chunked)");
  });

  test("tampered cookie -> 401", async () => {
    const t = alice.token;
    const parts = t.split(".");
    // Flip one character in the ciphertext.
    const ct = parts[3];
    const i = Math.floor(ct.length / 2);
    parts[3] = ct.slice(0, i) + (ct[i] === "A" ? "B" : "A") + ct.slice(i + 1);
    const tampered = parts.join(".");
    assert401(await sessionWith({ Cookie: `${V5_COOKIE}=${tampered}` }), "GET /api/authjs/session (tampered)");
    assert401(await tokenWith({ Cookie: `${V5_COOKIE}=${tampered}` }), "POST /api/authjs/token (tampered)");
    assert401(await sessionWith({ Authorization: `Bearer ${tampered}` }), "GET /api/authjs/session (Bearer tampered)");
    // Truncated token, garbage.
    assert401(await sessionWith({ Cookie: `${V5_COOKIE}=${t.slice(0, -10)}` }), "GET /api/authjs/session (truncated)");
    assert401(await sessionWith({ Cookie: `${V5_COOKIE}=not-a-jwe` }), "GET /api/authjs/session (garbage)");
  });

  test("no session at all -> 401 (DRF's NotAuthenticated body: detail only)", async () => {
    for (const [r, what] of [
      [await sessionWith({}), "GET /api/authjs/session (no cookie)"],
      [await tokenWith({}), "POST /api/authjs/token (no cookie)"],
      [await sessionWith({ Cookie: "unrelated=1; authjs.csrf-token=abc" }), "GET /api/authjs/session (other cookies only)"],
    ]) {
      assert.equal(r.status, 401, describe(what, r));
      assert.equal(typeof r.body?.detail, "string", describe(what, r));
    }
  });
});

suite("tokens minted directly with the real encoders", () => {
  test("token encrypted with another secret -> 401", async () => {
    const t = await encodeV5({ token: { sub: String(alice.id) }, secret: randomSecret(), salt: V5_COOKIE });
    assert401(await sessionWith({ Cookie: `${V5_COOKIE}=${t}` }), "GET /api/authjs/session (foreign secret)");
  });

  test("expired token (exp 60 s ago, beyond the 15 s tolerance) -> 401", async () => {
    const t = await encodeV5({ token: { sub: String(alice.id) }, secret: config.secret, salt: V5_COOKIE, maxAge: -60 });
    assert401(await sessionWith({ Cookie: `${V5_COOKIE}=${t}` }), "GET /api/authjs/session (expired)");
    assert401(await tokenWith({ Cookie: `${V5_COOKIE}=${t}` }), "POST /api/authjs/token (expired)");
  });

  // Finding 4 of issue 7: a bare `sub` (next-auth v4 without an adapter puts the OAuth
  // provider's own user id there) or `user_id` claim never names a Django user.
  test("a bare integer `sub` or `user_id` is refused (user_not_linked)", async () => {
    for (const claims of [
      { sub: String(bobId) },
      { sub: String(alice.id), name: "GitLab user" },
      { sub: crypto.randomUUID(), user_id: alice.id },
      { user_id: String(alice.id) },
    ]) {
      const t = await encodeV5({ token: claims, secret: config.secret, salt: V5_COOKIE });
      for (const r of [await sessionWith({ Cookie: `${V5_COOKIE}=${t}` }), await tokenWith({ Cookie: `${V5_COOKIE}=${t}` })]) {
        assert401(r, `bare claims ${JSON.stringify(claims)}`);
        assert.equal(r.body.code, "user_not_linked", describe(JSON.stringify(claims), r));
        assert.equal(r.body.access, undefined);
      }
    }
  });

  test("the user is the one of the session's authbridge refresh token, whatever `sub` says", async () => {
    const t = await encodeV5({
      token: { sub: String(bobId), user_id: bobId, refreshToken: alice.refresh },
      secret: config.secret,
      salt: V5_COOKIE,
    });
    assertAlice(await sessionWith({ Cookie: `${V5_COOKIE}=${t}` }), "GET /api/authjs/session (refreshToken of alice, sub bob)");
  });

  test("a refresh token authbridge did not sign, or an access token, -> 401 session_not_valid", async () => {
    const [h, p] = alice.refresh.split(".");
    const forged = `${h}.${p}.${Buffer.alloc(32).toString("base64url")}`;
    for (const refreshToken of [forged, alice.claims.accessToken]) {
      const t = await encodeV5({ token: { sub: String(alice.id), refreshToken }, secret: config.secret, salt: V5_COOKIE });
      const r = await sessionWith({ Cookie: `${V5_COOKIE}=${t}` });
      assert401(r, "GET /api/authjs/session (bad refreshToken)");
      assert.equal(r.body.code, "session_not_valid");
    }
  });

  test("unlinked token (OAuth-style random UUID sub, no user_id) -> 401", async () => {
    const t = await encodeV5({
      token: { sub: crypto.randomUUID(), email: "a@example.com" },
      secret: config.secret,
      salt: V5_COOKIE,
    });
    assert401(await sessionWith({ Cookie: `${V5_COOKIE}=${t}` }), "GET /api/authjs/session (UUID sub)");
    assert401(await tokenWith({ Cookie: `${V5_COOKIE}=${t}` }), "POST /api/authjs/token (UUID sub)");
  });

  test("sub of a user that does not exist -> 401", async () => {
    const t = await encodeV5({ token: { sub: "999999" }, secret: config.secret, salt: V5_COOKIE });
    assert401(await sessionWith({ Cookie: `${V5_COOKIE}=${t}` }), "GET /api/authjs/session (sub 999999)");
  });

  test("next-auth v4 cookie with a bare integer `sub` (a GitLab sign-in without adapter) -> 401", async () => {
    const t = await encodeV4({ token: { sub: String(alice.id), name: "GitLab user" }, secret: server.env.AUTH_SECRET });
    for (const r of [await sessionWith({ Cookie: `${V4_COOKIE}=${t}` }), await tokenWith({ Cookie: `${V4_COOKIE}=${t}` })]) {
      assert401(r, "v4 cookie, bare sub");
      assert.equal(r.body.code, "user_not_linked");
    }
  });

  test("v4 cookie from next-auth@4 encode() under next-auth.session-token", async () => {
    const t = await encodeV4({
      token: { sub: "gitlab-4242", name: "Alice", refreshToken: alice.refresh },
      secret: server.env.AUTH_SECRET,
    });
    // v4 tokens: A256GCM, no kid.
    const header = JSON.parse(Buffer.from(t.split(".")[0], "base64url").toString());
    assert.deepEqual(header, { alg: "dir", enc: "A256GCM" });
    const r = await sessionWith({ Cookie: `${V4_COOKIE}=${t}` });
    assertAlice(r, "GET /api/authjs/session (Cookie: next-auth.session-token)");
    assert.equal(r.body.session.name, "Alice");
    assert.equal(r.body.session.sub, "gitlab-4242");
    assertTokenPair(await tokenWith({ Cookie: `${V4_COOKIE}=${t}` }), alice.id, "POST /api/authjs/token (v4 cookie)");
    assertAlice(
      await sessionWith({ Cookie: `${V4_SECURE_COOKIE}=${t}` }),
      "GET /api/authjs/session (Cookie: __Secure-next-auth.session-token)",
    );
  });

  test("v4 cookie chunked (next-auth.session-token.0, .1)", async () => {
    const big = randomBytes(3000).toString("hex");
    const t = await encodeV4({ token: { sub: String(alice.id), big, refreshToken: alice.refresh }, secret: server.env.AUTH_SECRET });
    const r = await sessionWith({ Cookie: sessionCookieHeader(V4_COOKIE, t, { chunk: 3933 }) });
    assertAlice(r, "GET /api/authjs/session (v4 chunked)");
    assert.equal(r.body.session.big, undefined);
  });

  test("v4 token as Authorization: Bearer", async () => {
    const t = await encodeV4({ token: { sub: String(alice.id), refreshToken: alice.refresh }, secret: server.env.AUTH_SECRET });
    assertAlice(await sessionWith({ Authorization: `Bearer ${t}` }), "GET /api/authjs/session (Bearer v4)");
  });
});

suite("CSRF on cookie-authenticated POST /api/authjs/token", () => {
  const cookie = () => `${V5_COOKIE}=${alice.token}`;

  test("Origin: https://evil.example -> 403", async () => {
    const r = await tokenWith({ Cookie: cookie(), Origin: "https://evil.example" });
    assert.equal(r.status, 403, describe("POST /api/authjs/token (Cookie, Origin: https://evil.example)", r));
    assert.equal(r.body?.access, undefined);
  });

  test("Sec-Fetch-Site: cross-site -> 403", async () => {
    const r = await tokenWith({ Cookie: cookie(), "Sec-Fetch-Site": "cross-site" });
    assert.equal(r.status, 403, describe("POST /api/authjs/token (Cookie, Sec-Fetch-Site: cross-site)", r));
  });

  test("Origin: null (sandboxed/opaque) -> 403", async () => {
    const r = await tokenWith({ Cookie: cookie(), Origin: "null" });
    assert.equal(r.status, 403, describe("POST /api/authjs/token (Cookie, Origin: null)", r));
  });

  test("the server's own origin -> 200", async () => {
    const r = await tokenWith({ Cookie: cookie(), Origin: server.origin, "Sec-Fetch-Site": "same-origin" });
    assertTokenPair(r, alice.id, `POST /api/authjs/token (Cookie, Origin: ${server.origin})`);
  });

  test("an origin listed in AUTHBRIDGE_TRUSTED_ORIGINS -> 200", async () => {
    const r = await tokenWith({ Cookie: cookie(), Origin: "https://app.example", "Sec-Fetch-Site": "same-site" });
    assertTokenPair(r, alice.id, "POST /api/authjs/token (Cookie, Origin: https://app.example, trusted)");
  });

  test("a look-alike of the trusted origin -> 403", async () => {
    for (const origin of ["https://app.example.evil.example", "http://app.example", "https://app.example:8443"]) {
      const r = await tokenWith({ Cookie: cookie(), Origin: origin });
      assert.equal(r.status, 403, describe(`POST /api/authjs/token (Cookie, Origin: ${origin})`, r));
    }
  });

  test("Bearer-authenticated calls are not CSRF-checked", async () => {
    const r = await tokenWith({ Authorization: `Bearer ${alice.token}`, Origin: "https://evil.example" });
    assertTokenPair(r, alice.id, "POST /api/authjs/token (Bearer, Origin: https://evil.example)");
  });
});

// Finding 9 of issue 7: an allow-list of claims, not a filter on names.
test("/api/authjs/session echoes only allow-listed claims (no nested or renamed refresh tokens)", async () => {
  const t = await encodeV5({
    token: {
      sub: String(alice.id),
      name: "Alice",
      email: "a@example.com",
      picture: "https://img.example/a.png",
      accessToken: alice.claims.accessToken,
      refreshToken: alice.refresh,
      tokens: { refresh: "nested-refresh-secret" },
      rt: "rt-secret",
      account: { access_token: "provider-secret" },
    },
    secret: config.secret,
    salt: V5_COOKIE,
  });
  const r = await sessionWith({ Cookie: `${V5_COOKIE}=${t}` });
  assertAlice(r, "GET /api/authjs/session (many claims)");
  assert.deepEqual(Object.keys(r.body.session).sort(), [
    "accessToken",
    "email",
    "exp",
    "iat",
    "jti",
    "name",
    "picture",
    "sub",
  ]);
  for (const secret of [alice.refresh, "nested-refresh-secret", "rt-secret", "provider-secret"]) {
    assert.ok(!r.text.includes(secret), `${secret} leaked: ${r.text}`);
  }
});

// Finding 15 of issue 7: signing out through Auth.js ends the session at authbridge.
test("sign-out through Auth.js: a copy of the cookie taken before is refused afterwards", async () => {
  const { res, jar } = await signInCredentials(config, { username: "alice", password: PASSWORD });
  assert.equal(res.status, 200, res.text);
  const copied = jar.header();
  assertAlice(await sessionWith({ Cookie: copied }), "GET /api/authjs/session (before sign-out)");
  const exchanged = await tokenWith({ Cookie: copied });
  assertTokenPair(exchanged, alice.id, "POST /api/authjs/token (before sign-out)");

  const csrf = await authjs(config, jar, "GET", "/csrf");
  const out = await authjs(config, jar, "POST", "/signout", {
    headers: { "X-Auth-Return-Redirect": "1" },
    form: { csrfToken: csrf.body.csrfToken, callbackUrl: "http://localhost:3000/" },
  });
  assert.equal(out.status, 200, out.text);
  assert.equal(jar.sessionToken(V5_COOKIE), undefined, "Auth.js cleared its cookie");

  for (const r of [await sessionWith({ Cookie: copied }), await tokenWith({ Cookie: copied })]) {
    assert401(r, "copied cookie after sign-out");
    assert.deepEqual(r.body, { detail: "Auth.js session has been signed out", code: "session_revoked" });
  }
  // The pair exchanged for that session ended with it; other sessions of alice did not.
  const rr = await api(server, "POST", "/api/token/refresh/", { json: { refresh: exchanged.body.refresh } });
  assert.equal(rr.status, 401, describe("refresh of the exchanged token after sign-out", rr));
  assert.deepEqual(rr.body, { detail: "Token is blacklisted", code: "token_not_valid" });
  assertAlice(await sessionWith({ Cookie: `${V5_COOKIE}=${alice.token}` }), "alice's other session");
});
