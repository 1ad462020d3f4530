// Auth.js v5 as a relying party of authbridge: the config docs/oidc.md shows and a sign-in driven
// like a browser would (shared by the HTTP, scale and Chromium tests).
import assert from "node:assert/strict";

import { Auth } from "@auth/core";

import { Browser, throughProvider } from "./helpers.mjs";

export const APP = "http://localhost:3000";

/** The five lines docs/oidc.md shows, plus what a bare Auth() in a test needs. */
export function authjsConfig(provider, rp, { checks, extra = {} } = {}) {
  return {
    providers: [
      {
        id: "authbridge",
        name: "authbridge",
        type: "oidc",
        issuer: provider.issuer,
        clientId: rp.client_id,
        clientSecret: rp.client_secret,
        ...(checks && { checks }),
        ...extra,
      },
    ],
    secret: "interop-authjs-secret-interop-authjs-secret",
    trustHost: true,
    basePath: "/auth",
    logger: { error: (e) => (authjsErrors.push(e), undefined), warn: () => {}, debug: () => {} },
    callbacks: {
      // The session shows who signed in: the provider's `sub` is the Django user id (Auth.js
      // without a database adapter gives its users random ids, so keep the provider's).
      jwt: ({ token, profile }) => (profile ? { ...token, sub: String(profile.sub) } : token),
      session: ({ session, token }) => ({ ...session, user: { ...session.user, id: token.sub } }),
    },
  };
}
export const authjsErrors = [];

/** Auth.js sign-in through the provider; returns { browser, session, callback }. */
export async function signInWithAuthjs(provider, config, { username, password, browser } = {}) {
  const b = browser ?? new Browser();
  b.apps[APP] = (req) => Auth(req, config);
  const csrf = JSON.parse((await b.get(`${APP}/auth/csrf`)).text).csrfToken;
  const start = await b.request("POST", `${APP}/auth/signin/authbridge`, {
    form: { csrfToken: csrf, callbackUrl: `${APP}/dashboard` },
  });
  assert.equal(start.status, 302, `Auth.js signin: ${start.status} ${start.text}`);
  assert.ok(start.location.startsWith(`${provider.issuer}/oauth2/authorize?`), `Auth.js sent the browser to ${start.location}`);
  const back = await throughProvider(b, start.location, provider, { username, password });
  assert.ok(back.location.startsWith(`${APP}/auth/callback/authbridge?`), `back to ${back.location}\n${b.trace()}`);
  const callback = await b.get(back.location);
  assert.equal(callback.status, 302, `Auth.js callback: ${callback.status} ${callback.text}\n${JSON.stringify(authjsErrors.slice(-3))}`);
  assert.equal(
    callback.location,
    `${APP}/dashboard`,
    `Auth.js callback went to ${callback.location}: ${authjsErrors.map((e) => `${e?.type}: ${e?.message} ${e?.cause?.message ?? ""}`).join("\n")}\n${provider.log().slice(-3000)}`,
  );
  const session = JSON.parse((await b.get(`${APP}/auth/session`)).text);
  return { browser: b, session, authorizeUrl: start.location, back };
}

