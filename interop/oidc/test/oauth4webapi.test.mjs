// oauth4webapi (panva's strict OAuth 2 / OIDC client) against authbridge: discovery, the
// authorization code flow with PKCE, the ID token's signature checked against the JWKS, userinfo,
// refresh with rotation, revocation (RFC 7009) and introspection (RFC 7662). The only relaxation
// is `allowInsecureRequests`: the test issuer is http on loopback (no TLS here); every other
// check is the library's default.
import assert from "node:assert/strict";
import { createPublicKey, verify } from "node:crypto";
import { after, before, test } from "node:test";

import * as oauth from "oauth4webapi";

import { Browser, client, decodeJwt, startProvider, throughProvider } from "./helpers.mjs";

const REDIRECT = "http://127.0.0.1:8976/cb";
const PASSWORD = "correct horse battery staple";
const insecure = { [oauth.allowInsecureRequests]: true };

let provider;
let as;
let userId;
const confidential = client(REDIRECT, { firstParty: true });
const publicRp = client(REDIRECT, { public: true, firstParty: true });
const eddsa = client(REDIRECT, { firstParty: true, alg: "EdDSA" });
const es256 = client(REDIRECT, { firstParty: true, alg: "ES256" });

before(async () => {
  provider = await startProvider({ clients: [confidential, publicRp, eddsa, es256], label: "o4w" });
  userId = provider.createUser("grace", { email: "grace@example.com", password: PASSWORD });
  const issuer = new URL(provider.issuer);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
});
after(async () => provider?.stop());

/** A JWS checked with node:crypto against the provider's JWKS, by `kid`. */
async function verifyWithJwks(jwt) {
  const { header, claims } = decodeJwt(jwt);
  assert.ok(header.kid, `every ID token names its key: ${JSON.stringify(header)}`);
  const jwks = await (await fetch(as.jwks_uri)).json();
  for (const k of jwks.keys) assert.ok(k.kid, `every JWKS key has a kid: ${JSON.stringify(k)}`);
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, `kid ${header.kid} is in the JWKS`);
  const [h, p, s] = jwt.split(".");
  const key = createPublicKey({ key: jwk, format: "jwk" });
  const data = Buffer.from(`${h}.${p}`);
  const sig = Buffer.from(s, "base64url");
  const ok =
    header.alg === "RS256"
      ? verify("sha256", data, key, sig)
      : header.alg === "ES256"
        ? verify("sha256", data, { key, dsaEncoding: "ieee-p1363" }, sig)
        : header.alg === "EdDSA"
          ? verify(null, data, key, sig)
          : false;
  assert.ok(ok, `the ${header.alg} signature verifies with JWKS key ${header.kid}`);
  return { header, claims };
}

/** The code flow for `rp` with `auth`; returns the processed token response and the request. */
async function codeFlow(rp, auth, { scope = "openid profile email offline_access", browser = new Browser() } = {}) {
  const c = { client_id: rp.client_id, ...(rp.id_token_signed_response_alg && { id_token_signed_response_alg: rp.id_token_signed_response_alg }) };
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(as.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: rp.client_id,
    redirect_uri: REDIRECT,
    response_type: "code",
    scope,
    state,
    nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
  }).toString();
  const back = await throughProvider(browser, url.toString(), provider, { username: "grace", password: PASSWORD });
  const params = oauth.validateAuthResponse(as, c, new URL(back.location), state);
  const res = await oauth.authorizationCodeGrantRequest(as, c, auth, params, REDIRECT, verifier, insecure);
  const tokens = await oauth.processAuthorizationCodeResponse(as, c, res, { expectedNonce: nonce, requireIdToken: true });
  return { c, tokens, claims: oauth.getValidatedIdTokenClaims(tokens) };
}

test("discovery: processDiscoveryResponse accepts the document; S256 and the iss parameter", () => {
  assert.equal(as.issuer, provider.issuer);
  assert.deepEqual(as.code_challenge_methods_supported, ["S256"]);
  assert.equal(as.authorization_response_iss_parameter_supported, true);
  assert.ok(as.id_token_signing_alg_values_supported.includes("RS256"));
});

test("code + PKCE, client_secret_basic: RS256 ID token verified against the JWKS, userinfo, introspection", async () => {
  const { c, tokens, claims } = await codeFlow(confidential, oauth.ClientSecretBasic(confidential.client_secret));
  assert.equal(claims.sub, String(userId));
  assert.equal(claims.iss, provider.issuer);
  assert.equal(claims.aud, confidential.client_id);
  assert.equal(typeof claims.auth_time, "number");
  const { header } = await verifyWithJwks(tokens.id_token);
  assert.equal(header.alg, "RS256", "a client registered without algorithm options gets RS256");

  const info = await oauth.processUserInfoResponse(as, c, claims.sub, await oauth.userInfoRequest(as, c, tokens.access_token, insecure));
  assert.equal(info.sub, String(userId));
  assert.equal(info.email, "grace@example.com");
  assert.equal(info.preferred_username, "grace");

  const auth = oauth.ClientSecretBasic(confidential.client_secret);
  const intro = await oauth.processIntrospectionResponse(as, c, await oauth.introspectionRequest(as, c, auth, tokens.access_token, insecure));
  assert.equal(intro.active, true);
  assert.equal(intro.client_id, confidential.client_id);
  const access = decodeJwt(tokens.access_token).claims;
  assert.equal(String(access.user_id), String(userId), "the access token is a simplejwt token (user_id)");
  assert.equal(access.client_id, confidential.client_id);
});

test("client_secret_post: refresh rotates, the old refresh token is then refused, revocation, introspection inactive", async () => {
  const auth = oauth.ClientSecretPost(confidential.client_secret);
  const { c, tokens } = await codeFlow(confidential, auth);
  assert.ok(tokens.refresh_token, "offline_access gives a refresh token");

  const refreshed = await oauth.processRefreshTokenResponse(as, c, await oauth.refreshTokenGrantRequest(as, c, auth, tokens.refresh_token, insecure));
  assert.ok(refreshed.access_token);
  assert.ok(refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token, "rotation: a new refresh token");
  if (refreshed.id_token) await verifyWithJwks(refreshed.id_token);

  // Reuse of the rotated refresh token (grace window 0) is refused with OAuth error JSON.
  await assert.rejects(
    oauth.processRefreshTokenResponse(as, c, await oauth.refreshTokenGrantRequest(as, c, auth, tokens.refresh_token, insecure)),
    (e) => e instanceof oauth.ResponseBodyError && e.error === "invalid_grant",
  );

  // Revoke a fresh pair's refresh token: it no longer refreshes and introspects as inactive.
  const fresh = (await codeFlow(confidential, auth)).tokens;
  await oauth.processRevocationResponse(await oauth.revocationRequest(as, c, auth, fresh.refresh_token, insecure));
  const intro = await oauth.processIntrospectionResponse(as, c, await oauth.introspectionRequest(as, c, auth, fresh.refresh_token, insecure));
  assert.equal(intro.active, false);
  await assert.rejects(
    oauth.processRefreshTokenResponse(as, c, await oauth.refreshTokenGrantRequest(as, c, auth, fresh.refresh_token, insecure)),
    (e) => e instanceof oauth.ResponseBodyError && e.error === "invalid_grant",
  );
  // Revoking an unknown token is not an error (RFC 7009 §2.2).
  await oauth.processRevocationResponse(await oauth.revocationRequest(as, c, auth, "not-a-token", insecure));
});

test("public client: PKCE with no secret (token_endpoint_auth_method none)", async () => {
  const { claims } = await codeFlow(publicRp, oauth.None());
  assert.equal(claims.sub, String(userId));
});

test("a client registered for EdDSA gets EdDSA ID tokens, one for ES256 gets ES256; both verify", async () => {
  for (const rp of [eddsa, es256]) {
    const { tokens } = await codeFlow(rp, oauth.ClientSecretBasic(rp.client_secret), { scope: "openid email" });
    const { header } = await verifyWithJwks(tokens.id_token);
    assert.equal(header.alg, rp.id_token_signed_response_alg);
  }
});

test("client_credentials: an access token for the client itself, no user_id", async () => {
  const c = { client_id: confidential.client_id };
  const auth = oauth.ClientSecretBasic(confidential.client_secret);
  const tokens = await oauth.processClientCredentialsResponse(as, c, await oauth.clientCredentialsGrantRequest(as, c, auth, {}, insecure));
  const claims = decodeJwt(tokens.access_token).claims;
  assert.equal(claims.sub, confidential.client_id);
  assert.equal(claims.user_id, undefined);
});

test("a wrong client secret: invalid_client, 401", async () => {
  const c = { client_id: confidential.client_id };
  const res = await oauth.clientCredentialsGrantRequest(as, c, oauth.ClientSecretBasic("x".repeat(43)), {}, insecure);
  assert.equal(res.status, 401);
  // 401 with `WWW-Authenticate: Basic` (RFC 6749 §5.2, the client used the Authorization header):
  // oauth4webapi surfaces the challenge.
  await assert.rejects(oauth.processClientCredentialsResponse(as, c, res), (e) => e instanceof oauth.WWWAuthenticateChallengeError && e.response.status === 401 || e.error === "invalid_client");
});
