// Two authbridge instances on one PostgreSQL database behind one issuer: one sign-in whose
// requests alternate between them (authorize on A, login on B, consent on A, token on A,
// userinfo on B, refresh on B). Codes, login sessions, consents and signing keys all live in
// the database, so whichever instance a request reaches can serve it.
import assert from "node:assert/strict";
import { createHash, createPublicKey, randomBytes, verify } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { makeDatabase } from "../../shared/db.mjs";
import { BACKEND, Browser, client, decodeJwt, isConsent, login, randomSecret, startProvider } from "./helpers.mjs";

const REDIRECT = "http://127.0.0.1:8979/cb";
const PASSWORD = "correct horse battery staple";
const skip = BACKEND !== "postgres" && "two instances share one PostgreSQL database (INTEROP_BACKEND=postgres)";

let a;
let b;
let database;
let dir;
let userId;
const rp = client(REDIRECT, { name: "Scale test app" });

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), "authbridge-oidc-scale-"));
  database = makeDatabase(dir, "scale");
  const shared = { DJANGO_SECRET_KEY: `interop-${randomSecret(48)}`, AUTHBRIDGE_SERVICE_TOKEN: randomSecret() };
  // A first: it creates the schema and the signing keys B then loads from the database.
  a = await startProvider({ clients: [rp], env: shared, database, label: "scale-a" });
  b = await startProvider({ clients: [rp], env: shared, database, publicUrl: a.issuer, label: "scale-b" });
  userId = a.createUser("alan", { email: "alan@example.com", password: PASSWORD });
});
after(async () => {
  await a?.stop();
  await b?.stop();
  database?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("one sign-in alternating between two instances: authorize A, login B, consent A, token A, userinfo B, refresh B", { skip }, async () => {
  const served = [];
  // The browser sees one issuer (A's URL); `route` decides which instance really answers.
  const route = (url) => {
    const u = new URL(url);
    if (u.origin !== a.issuer) return url;
    const to = u.pathname.startsWith("/login") ? b : a;
    served.push(`${u.pathname} -> ${to === a ? "A" : "B"}`);
    return `${to.url}${u.pathname}${u.search}`;
  };
  const browser = new Browser({ route });
  const verifier = randomBytes(32).toString("base64url");
  const nonce = randomBytes(8).toString("hex");
  const q = new URLSearchParams({
    client_id: rp.client_id,
    redirect_uri: REDIRECT,
    response_type: "code",
    scope: "openid email profile offline_access",
    state: "st-1",
    nonce,
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
  });
  let page = await browser.follow(await browser.get(`${a.issuer}/oauth2/authorize?${q}`), [a.issuer]);
  page = await browser.follow(await login(browser, page, "alan", PASSWORD), [a.issuer]);
  if (isConsent(page)) {
    page = await browser.follow(await browser.submit(page, {}, { button: (f) => !/deny|cancel/i.test(`${f.name} ${f.value}`) }), [a.issuer]);
  }
  assert.ok(page.location?.startsWith(REDIRECT), `back to the client: ${page.status} ${page.location}\n${browser.trace()}`);
  assert.ok(served.includes("/login -> B") && served.some((s) => s.startsWith("/oauth2/authorize -> A")), served.join("\n"));
  const code = new URL(page.location).searchParams.get("code");
  assert.equal(new URL(page.location).searchParams.get("iss"), a.issuer);

  const basic = `Basic ${Buffer.from(`${rp.client_id}:${rp.client_secret}`).toString("base64")}`;
  const form = (f) => ({ method: "POST", headers: { authorization: basic, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(f) });
  const tok = await fetch(`${a.url}/oauth2/token`, form({ grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: verifier }));
  const tokens = await tok.json();
  assert.equal(tok.status, 200, JSON.stringify(tokens));
  // B publishes the key A signed with.
  const { header, claims } = decodeJwt(tokens.id_token);
  assert.equal(claims.nonce, nonce);
  assert.equal(claims.iss, a.issuer);
  const jwk = (await (await fetch(`${b.url}/oauth2/jwks`)).json()).keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, `B's JWKS has A's key ${header.kid}`);
  const [h, p, s] = tokens.id_token.split(".");
  assert.ok(verify("sha256", Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: "jwk" }), Buffer.from(s, "base64url")));

  const info = await fetch(`${b.url}/oauth2/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  assert.equal(info.status, 200);
  const user = await info.json();
  assert.equal(user.sub, String(userId));
  assert.equal(user.email, "alan@example.com");

  const refreshed = await fetch(`${b.url}/oauth2/token`, form({ grant_type: "refresh_token", refresh_token: tokens.refresh_token }));
  assert.equal(refreshed.status, 200, await refreshed.clone().text());
  const replay = await fetch(`${a.url}/oauth2/token`, form({ grant_type: "refresh_token", refresh_token: tokens.refresh_token }));
  assert.equal(replay.status, 400, "the rotated refresh token is spent on A too");

  // The code is spent for B as well, and replaying it revokes the family it started, on A too.
  const again = await fetch(`${b.url}/oauth2/token`, form({ grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: verifier }));
  assert.equal(again.status, 400);
  assert.equal((await again.json()).error, "invalid_grant");
  const rotated = (await refreshed.json()).refresh_token;
  const afterReplay = await fetch(`${a.url}/oauth2/token`, form({ grant_type: "refresh_token", refresh_token: rotated }));
  assert.equal(afterReplay.status, 400, "a replayed code revokes the refresh tokens it led to");
});

test("the login session made on B is honoured by A: a second authorize on A needs no login", { skip }, async () => {
  const route = (url) => {
    const u = new URL(url);
    if (u.origin !== a.issuer) return url;
    return `${(u.pathname.startsWith("/login") || u.pathname.startsWith("/consent") ? b : a).url}${u.pathname}${u.search}`;
  };
  const browser = new Browser({ route });
  const start = (state) =>
    `${a.issuer}/oauth2/authorize?${new URLSearchParams({ client_id: rp.client_id, redirect_uri: REDIRECT, response_type: "code", scope: "openid", state, code_challenge: createHash("sha256").update("v".repeat(43)).digest("base64url"), code_challenge_method: "S256" })}`;
  let page = await browser.follow(await browser.get(start("1")), [a.issuer]);
  page = await browser.follow(await login(browser, page, "alan", PASSWORD), [a.issuer]);
  if (isConsent(page)) page = await browser.follow(await browser.submit(page, {}, { button: (f) => !/deny|cancel/i.test(`${f.name} ${f.value}`) }), [a.issuer]);
  assert.ok(page.location?.startsWith(REDIRECT), browser.trace());
  const second = await browser.follow(await browser.get(start("2")), [a.issuer]);
  assert.ok(second.location?.startsWith(REDIRECT) && new URL(second.location).searchParams.get("code"), `no login, no consent the second time:\n${browser.trace()}`);
});
