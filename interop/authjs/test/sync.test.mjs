// OAuth/OIDC sign-in path: the example's signIn/jwt callbacks call authbridge's
// POST /api/users/sync. The callbacks are driven directly with a fabricated
// account/profile, exactly as Auth.js calls them after an OIDC callback without
// a database adapter (FACTS §4: user.id is a random UUID, the provider's sub is
// account.providerAccountId).
import assert from "node:assert/strict";
import { after, before, describe as suite, test } from "node:test";

import { encode as encodeV5 } from "@auth/core/jwt";

import {
  api,
  describe,
  djangoAuthenticate,
  exampleConfig,
  startAuthbridge,
  verifyHs256,
  V5_COOKIE,
} from "./helpers.mjs";

let server;
let config;
let aliceId;

before(async () => {
  // Linking by verified email is opted into for the "oidc" provider only (finding 5 of issue 7).
  server = await startAuthbridge({ AUTHBRIDGE_EMAIL_LINKING_PROVIDERS: "oidc" });
  server.createUser("alice", { email: "a@example.com", password: "correct horse battery staple" });
  const r = await api(server, "POST", "/api/token/", {
    json: { username: "alice", password: "correct horse battery staple" },
  });
  assert.equal(r.status, 200, describe("POST /api/token/", r));
  aliceId = r.body.user_id;
  config = exampleConfig(server);
});

after(async () => {
  await server?.stop();
});

const service = () => ({ Authorization: `Bearer ${server.env.AUTHBRIDGE_SERVICE_TOKEN}` });

function syncBody(sub, { email = `${sub}@example.com`, verified = true, provider = "oidc" } = {}) {
  return {
    provider,
    provider_account_id: sub,
    email,
    email_verified: verified,
    name: `User ${sub}`,
    image: `https://img.example/${sub}.png`,
  };
}

/** What Auth.js hands the callbacks after an OIDC sign-in (no adapter). */
function oidcSignIn(sub, { email = `${sub}@example.com`, verified = true, provider = "oidc", type = "oidc" } = {}) {
  const profile = {
    iss: "https://idp.example",
    sub,
    email,
    email_verified: verified,
    name: `User ${sub}`,
    picture: `https://img.example/${sub}.png`,
  };
  const user = { id: crypto.randomUUID(), name: profile.name, email, image: profile.picture };
  const account = {
    provider,
    type,
    providerAccountId: sub,
    access_token: "idp-access-token",
    token_type: "bearer",
    id_token: "x.y.z",
    scope: "openid profile email",
    expires_at: Math.floor(Date.now() / 1000) + 3600,
  };
  return { user, account, profile };
}

/** Run the example's callbacks the way Auth.js's OAuth callback does. */
async function runExampleSignIn(cfg, params) {
  const allowed = await cfg.callbacks.signIn({ ...params });
  if (allowed !== true) return { allowed };
  const { user, account, profile } = params;
  const defaultToken = { name: user.name, email: user.email, picture: user.image, sub: user.id?.toString() };
  const token = await cfg.callbacks.jwt({
    token: defaultToken,
    user,
    account,
    profile,
    isNewUser: false,
    trigger: "signIn",
  });
  return { allowed, token };
}

function assertTokens(body, userId, what) {
  const access = verifyHs256(body.access, server.env.DJANGO_SECRET_KEY).claims;
  assert.equal(access.token_type, "access", what);
  assert.equal(access.user_id, String(userId), what);
  const refresh = verifyHs256(body.refresh, server.env.DJANGO_SECRET_KEY).claims;
  assert.equal(refresh.token_type, "refresh", what);
  assert.equal(refresh.user_id, String(userId), what);
}

suite("POST /api/users/sync", () => {
  test("missing or wrong service token -> 401", async () => {
    const none = await api(server, "POST", "/api/users/sync", { json: syncBody("nobody") });
    assert.equal(none.status, 401, describe("POST /api/users/sync (no Authorization)", none));
    const wrong = await api(server, "POST", "/api/users/sync", {
      json: syncBody("nobody"),
      headers: { Authorization: "Bearer not-the-token" },
    });
    assert.equal(wrong.status, 401, describe("POST /api/users/sync (wrong token)", wrong));
    // A user's session token is not a service token.
    const jwe = await encodeV5({ token: { sub: String(aliceId) }, secret: server.env.AUTH_SECRET, salt: V5_COOKIE });
    const user = await api(server, "POST", "/api/users/sync", {
      json: syncBody("nobody"),
      headers: { Authorization: `Bearer ${jwe}` },
    });
    assert.equal(user.status, 401, describe("POST /api/users/sync (Bearer <session JWE>)", user));
  });

  test("creates the user once; the same account again -> same user_id, created=false", async () => {
    const first = await api(server, "POST", "/api/users/sync", { json: syncBody("sub-1"), headers: service() });
    assert.equal(first.status, 200, describe("POST /api/users/sync (new account)", first));
    assert.deepEqual(Object.keys(first.body).sort(), ["access", "created", "refresh", "user_id"]);
    assert.ok(Number.isInteger(first.body.user_id));
    assert.notEqual(first.body.user_id, aliceId);
    assert.equal(first.body.created, true);
    assertTokens(first.body, first.body.user_id, "sync tokens");
    const v = await api(server, "POST", "/api/token/verify/", { json: { token: first.body.access } });
    assert.equal(v.status, 200, describe("POST /api/token/verify/ (sync access)", v));
    const r = await api(server, "POST", "/api/token/refresh/", { json: { refresh: first.body.refresh } });
    assert.equal(r.status, 200, describe("POST /api/token/refresh/ (sync refresh)", r));

    const again = await api(server, "POST", "/api/users/sync", { json: syncBody("sub-1"), headers: service() });
    assert.equal(again.status, 200, describe("POST /api/users/sync (same account again)", again));
    assert.equal(again.body.user_id, first.body.user_id);
    assert.equal(again.body.created, false);
  });

  test("same provider_account_id at another provider is another user", async () => {
    const a = await api(server, "POST", "/api/users/sync", {
      json: syncBody("shared-sub", { provider: "oidc", email: "s1@example.com" }),
      headers: service(),
    });
    const b = await api(server, "POST", "/api/users/sync", {
      json: syncBody("shared-sub", { provider: "github", email: "s2@example.com" }),
      headers: service(),
    });
    assert.equal(a.status, 200, describe("sync oidc/shared-sub", a));
    assert.equal(b.status, 200, describe("sync github/shared-sub", b));
    assert.notEqual(a.body.user_id, b.body.user_id);
  });

  test("concurrent syncs of one new account -> one user, created=true exactly once", async () => {
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        api(server, "POST", "/api/users/sync", { json: syncBody("race-1"), headers: service() }),
      ),
    );
    for (const r of results) assert.equal(r.status, 200, describe("POST /api/users/sync (concurrent)", r));
    const ids = new Set(results.map((r) => r.body.user_id));
    assert.equal(ids.size, 1, `user_ids: ${[...ids]}`);
    assert.equal(results.filter((r) => r.body.created === true).length, 1);
  });

  test("verified e-mail of an existing user: linked only for a provider that opted in", async () => {
    const github = await api(server, "POST", "/api/users/sync", {
      json: syncBody("gh-verified", { provider: "github", email: "A@example.com", verified: true }),
      headers: service(),
    });
    assert.equal(github.status, 409, describe("POST /api/users/sync (github, alice's verified e-mail)", github));
    assert.equal(github.body.code, "OAuthAccountNotLinked");
    assert.equal(github.body.access, undefined);
    // Nothing was written: the same account is still not linked afterwards.
    const again = await api(server, "POST", "/api/users/sync", {
      json: syncBody("gh-verified", { provider: "github", email: "A@example.com", verified: true }),
      headers: service(),
    });
    assert.equal(again.status, 409, describe("POST /api/users/sync (github again)", again));

    const oidc = await api(server, "POST", "/api/users/sync", {
      json: syncBody("idp-alice", { provider: "oidc", email: "A@example.com", verified: true }),
      headers: service(),
    });
    assert.equal(oidc.status, 200, describe("POST /api/users/sync (oidc, opted in)", oidc));
    assert.equal(oidc.body.user_id, aliceId);
    assert.equal(oidc.body.created, false);
  });

  test("unverified e-mail of an existing user -> 409 OAuthAccountNotLinked", async () => {
    const r = await api(server, "POST", "/api/users/sync", {
      json: syncBody("gh-42", { provider: "github", email: "a@example.com", verified: false }),
      headers: service(),
    });
    assert.equal(r.status, 409, describe("POST /api/users/sync (a@example.com, email_verified=false)", r));
    assert.equal(r.body.code, "OAuthAccountNotLinked");
    assert.equal(typeof r.body.detail, "string");
  });
});

suite("the example's OAuth/OIDC callbacks", () => {
  test("sign-in: Django user created, session token carries its id and simplejwt tokens", async () => {
    const params = oidcSignIn("idp-carol");
    const { allowed, token } = await runExampleSignIn(config, params);
    assert.equal(allowed, true, JSON.stringify(config.logger.entries));
    assert.match(token.sub, /^\d+$/, "sub should be the Django user id");
    assert.equal(params.user.id, token.sub);
    const userId = Number(token.sub);
    assertTokens({ access: token.accessToken, refresh: token.refreshToken }, userId, "example token");
    assert.equal(token.accessTokenExpires, verifyHs256(token.accessToken, server.env.DJANGO_SECRET_KEY).claims.exp);
    const v = await api(server, "POST", "/api/token/verify/", { json: { token: token.accessToken } });
    assert.equal(v.status, 200, describe("POST /api/token/verify/", v));
    // Django itself (simplejwt's JWTAuthentication) accepts it and finds the synced user.
    assert.equal(djangoAuthenticate(token.accessToken, server.env).id, userId);

    // The cookie Auth.js would write from this token is accepted by authbridge.
    const jwe = await encodeV5({ token, secret: config.secret, salt: V5_COOKIE });
    const s = await api(server, "GET", "/api/authjs/session", { headers: { Cookie: `${V5_COOKIE}=${jwe}` } });
    assert.equal(s.status, 200, describe("GET /api/authjs/session (OIDC user's cookie)", s));
    assert.equal(s.body.user.id, userId);
    assert.equal(s.body.user.email, "idp-carol@example.com");
    const t = await api(server, "POST", "/api/authjs/token", { headers: { Cookie: `${V5_COOKIE}=${jwe}` } });
    assert.equal(t.status, 200, describe("POST /api/authjs/token (OIDC user's cookie)", t));
    assert.equal(t.body.user_id, userId);

    // session callback exposes the access token.
    const session = await config.callbacks.session({
      session: { user: { name: token.name, email: token.email, image: token.picture }, expires: "" },
      token,
    });
    assert.equal(session.accessToken, token.accessToken);
    assert.equal(session.user.id, token.sub);

    // Signing in again with the same IdP account -> same Django user.
    const again = await runExampleSignIn(config, oidcSignIn("idp-carol"));
    assert.equal(again.token.sub, token.sub);
  });

  test("minimal profile (no name, picture or e-mail) still signs in", async () => {
    const params = oidcSignIn("idp-minimal");
    params.profile = { iss: "https://idp.example", sub: "idp-minimal" };
    params.user = { id: crypto.randomUUID(), name: null, email: undefined, image: null };
    const { allowed, token } = await runExampleSignIn(config, params);
    assert.equal(allowed, true, JSON.stringify(config.logger.entries));
    assert.match(token.sub, /^\d+$/);
    const v = await api(server, "POST", "/api/token/verify/", { json: { token: token.accessToken } });
    assert.equal(v.status, 200, describe("POST /api/token/verify/", v));
  });

  test("authbridge refusing the sync (wrong service token) -> signIn throws (Auth.js: AccessDenied)", async () => {
    const bad = exampleConfig({ ...server, env: { ...server.env, AUTHBRIDGE_SERVICE_TOKEN: "wrong" } });
    await assert.rejects(runExampleSignIn(bad, oidcSignIn("idp-refused")), /api\/users\/sync answered 401/);
  });

  test("concurrent sign-ins of one new account (5 instances) -> one Django user", async () => {
    const results = await Promise.all(
      Array.from({ length: 5 }, () => runExampleSignIn(exampleConfig(server), oidcSignIn("idp-dave"))),
    );
    for (const r of results) assert.equal(r.allowed, true);
    const subs = new Set(results.map((r) => r.token.sub));
    assert.equal(subs.size, 1, `subs: ${[...subs]}`);
    for (const r of results) {
      const v = await api(server, "POST", "/api/token/verify/", { json: { token: r.token.accessToken } });
      assert.equal(v.status, 200, describe("POST /api/token/verify/", v));
    }
  });

  test("OAuth (non-OIDC, e.g. GitHub: no email_verified) with an existing user's e-mail -> OAuthAccountNotLinked", async () => {
    const params = oidcSignIn("gh-777", { provider: "github", type: "oauth", email: "a@example.com" });
    delete params.profile.email_verified;
    const { allowed, token } = await runExampleSignIn(config, params);
    assert.equal(token, undefined);
    assert.equal(allowed, "/auth/error?error=OAuthAccountNotLinked");
  });

  test("credentials sign-ins never call /api/users/sync", async () => {
    let calls = 0;
    const cfg = exampleConfig(server, {
      fetch: async (url, init) => {
        if (String(url).includes("/api/users/sync")) calls += 1;
        return fetch(url, init);
      },
    });
    const ok = await cfg.callbacks.signIn({
      user: { id: String(aliceId) },
      account: { provider: "credentials", type: "credentials", providerAccountId: String(aliceId) },
    });
    assert.equal(ok, true);
    assert.equal(calls, 0);
  });
});

test("server without AUTHBRIDGE_SERVICE_TOKEN: POST /api/users/sync -> 404", async () => {
  const bare = await startAuthbridge({ AUTHBRIDGE_SERVICE_TOKEN: undefined });
  try {
    const r = await api(bare, "POST", "/api/users/sync", {
      json: syncBody("x"),
      headers: { Authorization: "Bearer anything" },
    });
    assert.equal(r.status, 404, describe("POST /api/users/sync (no service token configured)", r));
    const r2 = await api(bare, "POST", "/api/users/sync", { json: syncBody("x"), headers: { Authorization: "Bearer " } });
    assert.equal(r2.status, 404, describe("POST /api/users/sync (empty bearer, none configured)", r2));
  } finally {
    await bare.stop();
  }
});
