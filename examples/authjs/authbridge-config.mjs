// Auth.js (v5) configuration that signs users in against authbridge, the
// Rust server that speaks Django simplejwt's token API.
//
// This module is framework-neutral and has no imports: the provider entries
// are the plain objects that `Credentials()` / an OIDC provider factory would
// return, so the same config object can be passed to `NextAuth()` (see
// auth.ts) or straight to `@auth/core`'s `Auth(request, config)` (see the
// interop tests in interop/authjs/).
//
// What it does
//  * Credentials sign-in: `authorize()` POSTs {username, password} to
//    `${AUTHBRIDGE_URL}/api/token/` and returns
//    `{ id: user_id, token: access, refresh }` (the seed's shape).
//  * OAuth/OIDC sign-in: the `signIn` callback calls
//    `${AUTHBRIDGE_URL}/api/users/sync` with the provider account + profile
//    (server-to-server, `Authorization: Bearer ${AUTHBRIDGE_SERVICE_TOKEN}`),
//    which creates/links the Django user and returns simplejwt tokens.
//  * `jwt` callback: keeps accessToken / refreshToken / accessTokenExpires in
//    the (encrypted) session token; shortly before the access token expires it
//    calls `/api/token/refresh/` and stores the *rotated* refresh token.
//    Concurrent refreshes of the same refresh token inside one process share a
//    single request; across processes (several serverless instances, several
//    tabs hitting different workers) authbridge's refresh grace window makes
//    every concurrent use of the same refresh token succeed.
//  * `session` callback: exposes `session.accessToken` (and `session.error`
//    when the refresh token was rejected, so the UI can send the user back to
//    the sign-in page).
//
//  * `events.signOut`: ends the login at authbridge too (`POST /api/token/logout/`
//    with the session's refresh token): the refresh token, every token rotated
//    from it and the pairs `/api/authjs/token` exchanged for this session are
//    blacklisted, so a copy of the session cookie taken before sign-out is
//    refused by authbridge's /api/authjs/* endpoints.
//
// The `sub` claim of the session token is the Django user id (a string) for
// both paths, for the app's own use. authbridge's /api/authjs/* endpoints do not
// trust it: they find the user through the authbridge refresh token the session
// carries (`refreshToken`, verified with authbridge's keys).

const DEFAULT_REFRESH_SKEW_SECONDS = 30;

/** Error value put in the token/session when the refresh token is rejected. */
export const REFRESH_TOKEN_ERROR = "RefreshTokenError";

/** Claims of a JWT, read WITHOUT verifying it (only used to schedule refreshes). */
export function jwtClaims(jwt) {
  try {
    const b64 = String(jwt).split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(b64.padEnd(b64.length + ((4 - (b64.length % 4)) % 4), "=")));
  } catch {
    return null;
  }
}

/** `exp` (seconds since the epoch) of a JWT, or null. */
export function jwtExpiry(jwt) {
  const exp = jwtClaims(jwt)?.exp;
  return typeof exp === "number" ? exp : null;
}

function trimSlash(url) {
  return String(url).replace(/\/+$/, "");
}

/**
 * Build the Auth.js config.
 *
 * @param {object} [options]
 * @param {string} [options.authbridgeUrl]   default: process.env.AUTHBRIDGE_URL (read at call time)
 * @param {string} [options.serviceToken]    default: process.env.AUTHBRIDGE_SERVICE_TOKEN
 * @param {string} [options.basePath]        Auth.js base path, default "/api/auth" (Next.js);
 *                                           bare @auth/core uses "/auth".
 * @param {number} [options.refreshSkewSeconds] refresh this long before the access token expires (30)
 * @param {typeof fetch} [options.fetch]     fetch implementation (default globalThis.fetch)
 * @param {object|false} [options.oidc]      {id, name, issuer, clientId, clientSecret}; default from
 *                                           AUTH_OIDC_ISSUER / AUTH_OIDC_ID / AUTH_OIDC_SECRET when
 *                                           AUTH_OIDC_ISSUER is set; false disables it.
 * @param {Array}  [options.providers]       extra Auth.js providers (e.g. GitHub(), Google());
 *                                           every oauth/oidc provider goes through /api/users/sync.
 * @param {(profile: any, account: any) => boolean} [options.emailVerified]
 *                                           whether the provider vouches for profile.email
 *                                           (default: OIDC `email_verified` claim).
 */
export function createAuthbridgeConfig(options = {}) {
  const env = typeof process !== "undefined" ? process.env : {};
  const baseUrl = () => {
    const url = options.authbridgeUrl ?? env.AUTHBRIDGE_URL;
    if (!url) throw new Error("AUTHBRIDGE_URL is not set");
    return trimSlash(url);
  };
  const serviceToken = () => options.serviceToken ?? env.AUTHBRIDGE_SERVICE_TOKEN;
  const doFetch = (...args) => (options.fetch ?? globalThis.fetch)(...args);
  const basePath = options.basePath ?? "/api/auth";
  const skew = options.refreshSkewSeconds ?? DEFAULT_REFRESH_SKEW_SECONDS;
  const emailVerified =
    options.emailVerified ??
    ((profile) => profile?.email_verified === true || profile?.email_verified === "true");

  async function postJson(path, body, headers = {}) {
    const res = await doFetch(`${baseUrl()}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", ...headers },
      body: JSON.stringify(body),
    });
    let data = null;
    try {
      data = await res.json();
    } catch {
      data = null;
    }
    return { status: res.status, ok: res.ok, data };
  }

  // ---- refresh (single-flight per refresh token in this process) ----------
  // A settled result is remembered briefly, so a request that still carries the
  // old cookie (sent before the browser stored the new one) gets the same new
  // tokens instead of spending the old refresh token again.
  const refreshes = new Map(); // refresh token -> { promise, at }
  const REMEMBER_MS = 60_000;

  function refreshOnce(refreshToken) {
    const now = Date.now();
    for (const [key, entry] of refreshes) {
      if (entry.settled && now - entry.at > REMEMBER_MS) refreshes.delete(key);
    }
    const existing = refreshes.get(refreshToken);
    if (existing) return existing.promise;
    const entry = { at: now, settled: false };
    entry.promise = postJson("/api/token/refresh/", { refresh: refreshToken }).then(
      (r) => {
        entry.settled = true;
        entry.at = Date.now();
        // Do not remember transient failures (5xx/network): let the next request retry.
        if (!r.ok && r.status >= 500) refreshes.delete(refreshToken);
        return r;
      },
      (err) => {
        refreshes.delete(refreshToken);
        throw err;
      },
    );
    refreshes.set(refreshToken, entry);
    return entry.promise;
  }

  async function refreshAccessToken(token) {
    if (!token.refreshToken) return { ...token, error: REFRESH_TOKEN_ERROR };
    let r;
    try {
      r = await refreshOnce(token.refreshToken);
    } catch {
      // authbridge unreachable: keep the session, try again on the next request.
      return token;
    }
    if (r.ok && r.data?.access) {
      const { error: _dropped, ...rest } = token;
      return {
        ...rest,
        accessToken: r.data.access,
        accessTokenExpires: jwtExpiry(r.data.access),
        // ROTATE_REFRESH_TOKENS=True: keep the new one; otherwise keep the old one.
        refreshToken: r.data.refresh ?? token.refreshToken,
      };
    }
    if (r.status === 400 || r.status === 401) {
      // Refresh token expired, blacklisted, or its family was revoked.
      return { ...token, error: REFRESH_TOKEN_ERROR };
    }
    return token; // 5xx etc.: transient, retry later
  }

  // Refresh `skew` seconds before expiry, but never earlier than half-way through
  // the access token's lifetime (so short lifetimes do not refresh on every request).
  function needsRefresh(token) {
    const claims = jwtClaims(token.accessToken);
    const exp = typeof token.accessTokenExpires === "number" ? token.accessTokenExpires : claims?.exp;
    if (typeof exp !== "number") return Boolean(token.refreshToken);
    const lifetime =
      typeof claims?.exp === "number" && typeof claims?.iat === "number" ? claims.exp - claims.iat : Infinity;
    const margin = Math.min(skew, Math.max(0, lifetime / 2));
    return Date.now() / 1000 >= exp - margin;
  }

  // ---- providers -----------------------------------------------------------
  const credentials = {
    id: "credentials",
    name: "Django",
    type: "credentials",
    credentials: {
      username: { label: "Username" },
      password: { label: "Password", type: "password" },
    },
    async authorize(creds) {
      const username = creds?.username;
      const password = creds?.password;
      if (typeof username !== "string" || typeof password !== "string") return null;
      const res = await postJson("/api/token/", { username, password });
      if (res.status === 400 || res.status === 401) return null; // -> CredentialsSignin
      if (!res.ok || !res.data?.access) {
        throw new Error(`authbridge /api/token/ answered ${res.status}`);
      }
      return { id: res.data.user_id, token: res.data.access, refresh: res.data.refresh };
    },
  };

  const oidcOptions =
    options.oidc === false
      ? null
      : (options.oidc ??
        (env.AUTH_OIDC_ISSUER
          ? {
              issuer: env.AUTH_OIDC_ISSUER,
              clientId: env.AUTH_OIDC_ID,
              clientSecret: env.AUTH_OIDC_SECRET,
            }
          : null));
  const oidc = oidcOptions
    ? {
        id: oidcOptions.id ?? "oidc",
        name: oidcOptions.name ?? "OpenID Connect",
        type: "oidc",
        issuer: oidcOptions.issuer,
        clientId: oidcOptions.clientId,
        clientSecret: oidcOptions.clientSecret,
        ...(oidcOptions.checks && { checks: oidcOptions.checks }),
      }
    : null;

  const providers = [credentials, ...(oidc ? [oidc] : []), ...(options.providers ?? [])];

  // ---- /api/users/sync ------------------------------------------------------
  async function syncUser({ user, account, profile }) {
    const token = serviceToken();
    if (!token) throw new Error("AUTHBRIDGE_SERVICE_TOKEN is not set");
    const body = {
      provider: account.provider,
      provider_account_id: String(account.providerAccountId),
      email_verified: Boolean(emailVerified(profile, account)),
    };
    // Optional fields: sent only when the provider gave a non-empty string
    // (authbridge, like a DRF serializer, rejects null and "").
    const optional = {
      email: profile?.email ?? user?.email,
      name: profile?.name ?? user?.name,
      image: user?.image ?? profile?.picture ?? profile?.avatar_url,
    };
    for (const [k, v] of Object.entries(optional)) {
      if (typeof v === "string" && v.trim() !== "") body[k] = v;
    }
    return postJson("/api/users/sync", body, { Authorization: `Bearer ${token}` });
  }

  const isOAuth = (account) => account?.type === "oauth" || account?.type === "oidc";

  // ---- who signed in ---------------------------------------------------------
  // Filled once at sign-in from GET /api/me/ with the fresh access token, so a page can show
  // who is signed in without a call of its own. A failure here never blocks the sign-in: the
  // session then carries only the id.
  async function whoAmI(access) {
    try {
      const res = await doFetch(`${baseUrl()}/api/me/`, {
        headers: { Authorization: `Bearer ${access}`, Accept: "application/json" },
      });
      if (!res.ok) return {};
      const me = await res.json();
      const who = {};
      if (typeof me?.username === "string") who.username = me.username;
      if (typeof me?.email === "string" && me.email !== "") who.email = me.email;
      if (typeof me?.is_staff === "boolean") who.is_staff = me.is_staff;
      return who;
    } catch {
      return {};
    }
  }

  // ---- sign-out --------------------------------------------------------------
  async function logout(token) {
    if (typeof token?.refreshToken !== "string") return;
    try {
      const r = await postJson("/api/token/logout/", { refresh: token.refreshToken });
      // 401: the token was already invalid (expired, or its login already ended).
      if (!r.ok && r.status !== 401) {
        console.error(`authbridge /api/token/logout/ answered ${r.status}`);
      }
    } catch (err) {
      // Signing out of the app must not fail because authbridge is unreachable.
      console.error(`authbridge /api/token/logout/ failed: ${err?.message ?? err}`);
    }
  }

  return {
    basePath,
    session: { strategy: "jwt" },
    providers,
    events: {
      // JWT sessions: Auth.js passes the decoded session token.
      async signOut(message) {
        await logout(message?.token);
      },
    },
    callbacks: {
      async signIn({ user, account, profile }) {
        if (!isOAuth(account)) return true; // credentials: authorize() already checked
        const r = await syncUser({ user, account, profile });
        if (r.status === 409) {
          // A Django user already owns this e-mail and the provider does not vouch for it.
          return `${basePath}/error?error=OAuthAccountNotLinked`;
        }
        if (!r.ok || !r.data?.access) {
          // Auth.js turns this into AccessDenied and logs the message as its cause.
          throw new Error(`authbridge /api/users/sync answered ${r.status}: ${JSON.stringify(r.data)}`);
        }
        // Without a database adapter Auth.js passes this same `user` object on to
        // the jwt callback; the token's `sub` becomes the Django user id.
        user.id = String(r.data.user_id);
        user.token = r.data.access;
        user.refresh = r.data.refresh;
        return true;
      },

      async jwt({ token, user, account, profile }) {
        if (user) {
          // Sign-in. Credentials: user = authorize()'s result. OAuth: filled in by signIn.
          if (isOAuth(account) && !user.token) {
            const r = await syncUser({ user, account, profile });
            if (!r.ok || !r.data?.access) throw new Error(`authbridge sync failed (${r.status})`);
            user.id = String(r.data.user_id);
            user.token = r.data.access;
            user.refresh = r.data.refresh;
          }
          return {
            ...token,
            ...(await whoAmI(user.token)),
            sub: String(user.id),
            accessToken: user.token,
            refreshToken: user.refresh,
            accessTokenExpires: jwtExpiry(user.token),
          };
        }
        if (token.error === REFRESH_TOKEN_ERROR) return token;
        if (!needsRefresh(token)) return token;
        return refreshAccessToken(token);
      },

      async session({ session, token }) {
        session.accessToken = token.accessToken;
        if (token.sub) session.user = { ...session.user, id: token.sub };
        for (const k of ["username", "email", "is_staff"]) {
          if (token[k] !== undefined) session.user = { ...session.user, [k]: token[k] };
        }
        if (token.error) session.error = token.error;
        return session;
      },
    },
  };
}

/** Config built from the environment (AUTHBRIDGE_URL, AUTHBRIDGE_SERVICE_TOKEN, AUTH_OIDC_*). */
const authConfig = createAuthbridgeConfig();
export default authConfig;
