// Better Auth (Auth.js's successor) with its generic OAuth plugin pointed at authbridge's
// discovery URL: a full sign-in, headless (Better Auth's `auth.handler` is a Request -> Response
// function, its database the in-memory adapter), ID tokens verified against the JWKS.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { genericOAuth } from "better-auth/plugins/generic-oauth";

import { Browser, client, startProvider, throughProvider } from "./helpers.mjs";

const APP = "http://localhost:3001";
const PASSWORD = "correct horse battery staple";
const rp = client(`${APP}/api/auth/callback/authbridge`, { name: "Better Auth app" });

let provider;
let userId;

before(async () => {
  provider = await startProvider({ clients: [rp], label: "betterauth" });
  userId = provider.createUser("hedy", { email: "hedy@example.com", password: PASSWORD });
});
after(async () => provider?.stop());

/** The Better Auth config docs/oidc.md shows (memory database for the test). */
function betterAuthApp() {
  return betterAuth({
    baseURL: APP,
    secret: "interop-better-auth-secret-interop-better-auth-secret",
    database: memoryAdapter({ user: [], session: [], account: [], verification: [] }),
    logger: { disabled: true },
    plugins: [
      genericOAuth({
        config: [
          {
            providerId: "authbridge",
            discoveryUrl: `${provider.issuer}/.well-known/openid-configuration`,
            clientId: rp.client_id,
            clientSecret: rp.client_secret,
            scopes: ["openid", "profile", "email"],
            requireIdTokenVerification: true,
          },
        ],
      }),
    ],
  });
}

test("Better Auth generic OAuth: full sign-in, the session holds the Django user's email", async () => {
  const auth = betterAuthApp();
  const b = new Browser({ apps: { [APP]: (req) => auth.handler(req) } });
  // Better Auth 1.7 registers generic OAuth providers as social providers: signIn.social.
  const start = await b.request("POST", `${APP}/api/auth/sign-in/social`, {
    json: { provider: "authbridge", callbackURL: `${APP}/dashboard` },
  });
  assert.equal(start.status, 200, `sign-in/social: ${start.status} ${start.text}`);
  const { url } = JSON.parse(start.text);
  assert.ok(url.startsWith(`${provider.issuer}/oauth2/authorize?`), url);
  assert.ok(new URL(url).searchParams.get("code_challenge"), "Better Auth sends PKCE");

  const back = await throughProvider(b, url, provider, { username: "hedy", password: PASSWORD });
  assert.ok(back.location.startsWith(`${APP}/api/auth/callback/authbridge?`), back.location);
  const done = await b.get(back.location);
  assert.equal(done.status, 302, `callback: ${done.status} ${done.text}`);
  assert.equal(done.location, `${APP}/dashboard`, `callback went to ${done.location}\n${b.trace()}`);

  const session = JSON.parse((await b.get(`${APP}/api/auth/get-session`)).text);
  assert.equal(session?.user?.email, "hedy@example.com", JSON.stringify(session));
  const accounts = await auth.api.listUserAccounts({ headers: new Headers({ cookie: b.jar.header(APP) }) });
  const account = accounts.find((a) => a.providerId === "authbridge");
  assert.equal(account?.accountId, String(userId), `the account is keyed by the Django user id: ${JSON.stringify(accounts)}`);
});
