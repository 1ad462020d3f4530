// Auth.js v5 (@auth/core's Auth()) with authbridge as a plain `type: "oidc"` provider: issuer,
// clientId, clientSecret and nothing else. A full sign-in over HTTP, with Auth.js's default
// checks and with pkce+state+nonce, ends in an Auth.js session holding the Django user.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { APP, authjsConfig, signInWithAuthjs } from "./authjs-app.mjs";
import { client, startProvider } from "./helpers.mjs";

let provider;
let ada;
const rp = client(`${APP}/auth/callback/authbridge`, { name: "Auth.js app" });
const firstParty = client(`${APP}/auth/callback/authbridge`, { firstParty: true });
const PASSWORD = "correct horse battery staple";

before(async () => {
  provider = await startProvider({ clients: [rp, firstParty], label: "authjs" });
  ada = provider.createUser("ada", { email: "ada@example.com", password: PASSWORD });
});
after(async () => provider?.stop());

test("discovery: issuer byte for byte, S256 only, iss parameter supported", async () => {
  const res = await fetch(`${provider.issuer}/.well-known/openid-configuration`);
  assert.equal(res.status, 200);
  const doc = await res.json();
  assert.equal(doc.issuer, provider.issuer);
  assert.deepEqual(doc.code_challenge_methods_supported, ["S256"]);
  assert.equal(doc.authorization_response_iss_parameter_supported, true);
  for (const k of ["authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "revocation_endpoint", "introspection_endpoint", "end_session_endpoint"]) {
    assert.ok(doc[k]?.startsWith(`${provider.issuer}/`), `${k}: ${doc[k]}`);
  }
});

test("Auth.js default checks: full sign-in, the session holds the Django user", async () => {
  const { session, authorizeUrl } = await signInWithAuthjs(provider, authjsConfig(provider, rp), { username: "ada", password: PASSWORD });
  assert.equal(session.user.email, "ada@example.com");
  assert.equal(session.user.id, String(ada));
  assert.ok(new URL(authorizeUrl).searchParams.get("code_challenge"), "Auth.js sends PKCE by default");
});

test('Auth.js checks ["pkce", "state", "nonce"]: full sign-in', async () => {
  const config = authjsConfig(provider, rp, { checks: ["pkce", "state", "nonce"] });
  const { session, authorizeUrl } = await signInWithAuthjs(provider, config, { username: "ada", password: PASSWORD });
  const q = new URL(authorizeUrl).searchParams;
  assert.ok(q.get("state") && q.get("nonce") && q.get("code_challenge"));
  assert.equal(session.user.email, "ada@example.com");
  assert.equal(session.user.id, String(ada));
});

test("Auth.js, first-party client: no consent screen, one login", async () => {
  const { session, browser } = await signInWithAuthjs(provider, authjsConfig(provider, firstParty), { username: "ada", password: PASSWORD });
  assert.equal(session.user.id, String(ada));
  assert.ok(!browser.history.some((l) => l.includes("/consent")), browser.trace());
});

test("Auth.js: a second sign-in in the same browser reuses the provider's login session", async () => {
  const config = authjsConfig(provider, rp);
  const { browser } = await signInWithAuthjs(provider, config, { username: "ada", password: PASSWORD });
  const before = browser.history.length;
  const again = await signInWithAuthjs(provider, config, { browser, username: "nobody", password: "wrong" });
  const steps = browser.history.slice(before);
  assert.equal(again.session.user.id, String(ada));
  assert.ok(!steps.some((l) => /^POST .*\/login/.test(l)), `no second login:\n${steps.join("\n")}`);
  assert.ok(!steps.some((l) => l.includes("/consent")), `consent remembered:\n${steps.join("\n")}`);
});

test("a client added by `authbridge client add --json` while the server runs: Auth.js signs in with it", async () => {
  const out = provider.cli(["client", "add", "Auth.js CLI app", "--redirect-uri", `${APP}/auth/callback/authbridge`, "--first-party", "--json"]);
  const made = JSON.parse(out);
  assert.ok(made.client_id && made.client_secret, out);
  const listed = provider.cli(["client", "list"]);
  assert.ok(listed.includes(made.client_id), `client list names it:\n${listed}`);
  const { session } = await signInWithAuthjs(provider, authjsConfig(provider, made), { username: "ada", password: PASSWORD });
  assert.equal(session.user.id, String(ada));
  provider.cli(["client", "remove", made.client_id]);
  assert.ok(!provider.cli(["client", "list"]).includes(made.client_id), "removed");
});
