// The OIDC sign-in path end to end through real Auth.js: a minimal fake OpenID
// provider on 127.0.0.1 (discovery, authorize, token with an RS256 ID token,
// userinfo), @auth/core's Auth() with the example config, and authbridge's
// /api/users/sync behind the example's signIn/jwt callbacks.
import assert from "node:assert/strict";
import { createHash, createSign, generateKeyPairSync, randomBytes } from "node:crypto";
import http from "node:http";
import { after, before, test } from "node:test";

import {
  api,
  authjs,
  CookieJar,
  decodeSession,
  describe,
  exampleConfig,
  startAuthbridge,
  verifyHs256,
  V5_COOKIE,
} from "./helpers.mjs";

const CLIENT_ID = "authbridge-example";
const CLIENT_SECRET = randomBytes(16).toString("hex");

/** Minimal OpenID provider (authorization code + PKCE, client_secret_basic). */
async function startFakeIdp() {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: "jwk" }), kid: "k1", use: "sig", alg: "RS256" };
  const codes = new Map();
  const accessTokens = new Map();
  const idp = { nextUser: null, tokenRequests: [] };
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const signJwt = (claims) => {
    const input = `${b64({ alg: "RS256", typ: "JWT", kid: "k1" })}.${b64(claims)}`;
    return `${input}.${createSign("RSA-SHA256").update(input).sign(privateKey).toString("base64url")}`;
  };
  const server = http.createServer(async (req, res) => {
    let body = "";
    for await (const c of req) body += c;
    const url = new URL(req.url, idp.issuer);
    const json = (status, obj) => {
      res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify(obj));
    };
    if (url.pathname === "/.well-known/openid-configuration") {
      return json(200, {
        issuer: idp.issuer,
        authorization_endpoint: `${idp.issuer}/authorize`,
        token_endpoint: `${idp.issuer}/token`,
        userinfo_endpoint: `${idp.issuer}/userinfo`,
        jwks_uri: `${idp.issuer}/jwks`,
        response_types_supported: ["code"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
        token_endpoint_auth_methods_supported: ["client_secret_basic"],
        code_challenge_methods_supported: ["S256"],
      });
    }
    if (url.pathname === "/jwks") return json(200, { keys: [jwk] });
    if (url.pathname === "/authorize") {
      const q = url.searchParams;
      if (q.get("client_id") !== CLIENT_ID || q.get("response_type") !== "code") return json(400, { error: "invalid_request" });
      const code = randomBytes(16).toString("hex");
      codes.set(code, {
        user: idp.nextUser,
        redirect_uri: q.get("redirect_uri"),
        challenge: q.get("code_challenge"),
        nonce: q.get("nonce"),
      });
      const back = new URL(q.get("redirect_uri"));
      back.searchParams.set("code", code);
      if (q.get("state")) back.searchParams.set("state", q.get("state"));
      res.writeHead(302, { location: back.toString() });
      return res.end();
    }
    if (url.pathname === "/token" && req.method === "POST") {
      const form = new URLSearchParams(body);
      idp.tokenRequests.push(Object.fromEntries(form));
      const expected = `Basic ${Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET)}`).toString("base64")}`;
      if (req.headers.authorization !== expected) return json(401, { error: "invalid_client" });
      const grant = codes.get(form.get("code"));
      codes.delete(form.get("code"));
      if (!grant || form.get("grant_type") !== "authorization_code" || form.get("redirect_uri") !== grant.redirect_uri) {
        return json(400, { error: "invalid_grant" });
      }
      const challenge = createHash("sha256").update(form.get("code_verifier") ?? "").digest("base64url");
      if (challenge !== grant.challenge) return json(400, { error: "invalid_grant", error_description: "PKCE" });
      const now = Math.floor(Date.now() / 1000);
      const access = randomBytes(16).toString("hex");
      accessTokens.set(access, grant.user);
      return json(200, {
        access_token: access,
        token_type: "Bearer",
        expires_in: 3600,
        scope: "openid profile email",
        id_token: signJwt({
          iss: idp.issuer,
          aud: CLIENT_ID,
          iat: now,
          exp: now + 300,
          ...(grant.nonce && { nonce: grant.nonce }),
          ...grant.user,
        }),
      });
    }
    if (url.pathname === "/userinfo") {
      const user = accessTokens.get((req.headers.authorization ?? "").replace(/^Bearer /i, ""));
      return user ? json(200, user) : json(401, { error: "invalid_token" });
    }
    json(404, { error: "not_found" });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  idp.issuer = `http://127.0.0.1:${server.address().port}`;
  idp.close = () => new Promise((r) => server.close(r));
  return idp;
}

let server;
let idp;
let config;
let aliceId;

before(async () => {
  [server, idp] = await Promise.all([startAuthbridge(), startFakeIdp()]);
  server.createUser("alice", { email: "a@example.com", password: "correct horse battery staple" });
  const r = await api(server, "POST", "/api/token/", {
    json: { username: "alice", password: "correct horse battery staple" },
  });
  assert.equal(r.status, 200, describe("POST /api/token/", r));
  aliceId = r.body.user_id;
  config = exampleConfig(server, {
    oidc: { id: "oidc", name: "Fake IdP", issuer: idp.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
  });
});

after(async () => {
  await Promise.all([server?.stop(), idp?.close()]);
});

/** Browser-like OIDC sign-in: POST /auth/signin/oidc -> IdP /authorize -> GET /auth/callback/oidc. */
async function oidcSignIn(user) {
  idp.nextUser = user;
  const jar = new CookieJar();
  const csrf = await authjs(config, jar, "GET", "/csrf");
  const start = await authjs(config, jar, "POST", "/signin/oidc", {
    headers: { "X-Auth-Return-Redirect": "1" },
    form: { csrfToken: csrf.body.csrfToken, callbackUrl: "http://localhost:3000/dashboard" },
  });
  assert.equal(start.status, 200, `${start.text} ${JSON.stringify(config.logger.entries)}`);
  const authorizeUrl = new URL(start.body.url);
  assert.equal(authorizeUrl.origin, idp.issuer, start.body.url);
  const authz = await fetch(authorizeUrl, { redirect: "manual" });
  assert.equal(authz.status, 302);
  const back = new URL(authz.headers.get("location"));
  assert.equal(back.pathname, "/auth/callback/oidc");
  const cb = await authjs(config, jar, "GET", `/callback/oidc${back.search}`);
  return { jar, cb };
}

test("OIDC sign-in through Auth.js creates the Django user; authbridge accepts the session cookie", async () => {
  const { jar, cb } = await oidcSignIn({
    sub: "idp-erin",
    email: "erin@example.com",
    email_verified: true,
    name: "Erin",
    picture: "https://img.example/erin.png",
  });
  assert.equal(cb.status, 302, `${cb.text} ${JSON.stringify(config.logger.entries)}`);
  assert.equal(cb.headers.get("location"), "http://localhost:3000/dashboard", JSON.stringify(config.logger.entries));
  const token = await decodeSession(jar.sessionToken(V5_COOKIE), config.secret);
  assert.match(token.sub ?? "", /^\d+$/, `sub should be the Django user id: ${JSON.stringify(token)}`);
  const userId = Number(token.sub);
  assert.notEqual(userId, aliceId);
  const access = verifyHs256(token.accessToken, server.env.DJANGO_SECRET_KEY).claims;
  assert.equal(access.user_id, token.sub);

  const session = await authjs(config, jar, "GET", "/session");
  assert.equal(session.body?.accessToken, token.accessToken);
  assert.equal(session.body.user.email, "erin@example.com");
  const v = await api(server, "POST", "/api/token/verify/", { json: { token: session.body.accessToken } });
  assert.equal(v.status, 200, describe("POST /api/token/verify/", v));

  const s = await api(server, "GET", "/api/authjs/session", { headers: { Cookie: jar.header() } });
  assert.equal(s.status, 200, describe("GET /api/authjs/session (cookie from OIDC sign-in)", s));
  assert.equal(s.body.user.id, userId);
  assert.equal(s.body.user.email, "erin@example.com");

  // The same IdP account again -> same Django user.
  const again = await oidcSignIn({ sub: "idp-erin", email: "erin@example.com", email_verified: true, name: "Erin" });
  assert.equal(again.cb.status, 302);
  const token2 = await decodeSession(again.jar.sessionToken(V5_COOKIE), config.secret);
  assert.equal(token2.sub, token.sub);
});

test("OIDC sign-in with an existing user's unverified e-mail -> OAuthAccountNotLinked, no session", async () => {
  const { jar, cb } = await oidcSignIn({ sub: "idp-mallory", email: "a@example.com", email_verified: false, name: "M" });
  assert.equal(cb.status, 302, cb.text);
  const loc = new URL(cb.headers.get("location"));
  assert.equal(loc.pathname, "/auth/error");
  assert.equal(loc.searchParams.get("error"), "OAuthAccountNotLinked");
  assert.equal(jar.sessionToken(V5_COOKIE), undefined);
});

test("OIDC sign-in with an existing user's *verified* e-mail, provider not opted in -> OAuthAccountNotLinked", async () => {
  // authbridge links by e-mail only for providers in AUTHBRIDGE_EMAIL_LINKING_PROVIDERS (none here),
  // as Auth.js does only with allowDangerousEmailAccountLinking.
  const { jar, cb } = await oidcSignIn({ sub: "idp-eve", email: "A@example.com", email_verified: true, name: "Eve" });
  assert.equal(cb.status, 302, cb.text);
  const loc = new URL(cb.headers.get("location"));
  assert.equal(loc.searchParams.get("error"), "OAuthAccountNotLinked");
  assert.equal(jar.sessionToken(V5_COOKIE), undefined);
});
