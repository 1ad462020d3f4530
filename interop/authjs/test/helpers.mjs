// Shared helpers for the Auth.js <-> authbridge interop tests.
//
// - startAuthbridge(): runs the real authbridge binary on 127.0.0.1:0 with a
//   fresh database of its own: SQLite in a temp dir, or PostgreSQL with
//   INTEROP_BACKEND=postgres (../../shared/db.mjs).
// - Auth.js side: drives the real @auth/core `Auth()` with the example config
//   (examples/authjs/authbridge-config.mjs) through its HTTP interface.
import { spawn, spawnSync } from "node:child_process";
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { Auth } from "@auth/core";

import { BACKEND, makeDatabase } from "../../shared/db.mjs";
import { decode as decodeV5 } from "@auth/core/jwt";

export const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, "../../..");
export const BIN = process.env.AUTHBRIDGE_BIN || join(REPO, "target/debug/authbridge");
export const EXAMPLE = join(REPO, "examples/authjs/authbridge-config.mjs");

export const { createAuthbridgeConfig, jwtClaims, REFRESH_TOKEN_ERROR } = await import(EXAMPLE);

export const randomSecret = (n = 32) => randomBytes(n).toString("base64url");

const STARTUP_TIMEOUT_MS = Number(process.env.AUTHBRIDGE_STARTUP_TIMEOUT_MS || 60_000);

export { BACKEND };

function baseEnv(databaseUrl, overrides) {
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    RUST_BACKTRACE: "1",
    ...(process.env.RUST_LOG && { RUST_LOG: process.env.RUST_LOG }),
    DATABASE_URL: databaseUrl,
    DJANGO_SECRET_KEY: `interop-${randomSecret(48)}`,
    AUTH_SECRET: randomSecret(),
    AUTHBRIDGE_SERVICE_TOKEN: randomSecret(),
    SIMPLE_JWT_ROTATE_REFRESH_TOKENS: "true",
    SIMPLE_JWT_BLACKLIST_AFTER_ROTATION: "true",
    SIMPLE_JWT_ACCESS_TOKEN_LIFETIME: "300",
    SIMPLE_JWT_REFRESH_TOKEN_GRACE_PERIOD: "10",
    PASSWORD_HASHERS: "django.contrib.auth.hashers.PBKDF2PasswordHasher",
  };
  for (const [k, v] of Object.entries(overrides ?? {})) {
    if (v === undefined || v === null) delete env[k];
    else env[k] = String(v);
  }
  return env;
}

/**
 * Start authbridge. `env` overrides/extends the defaults (undefined removes a variable).
 * Returns { url, origin, env, dir, log(), createUser(), stop() }.
 */
export async function startAuthbridge(env = {}) {
  if (!existsSync(BIN)) {
    throw new Error(
      `authbridge binary not found at ${BIN}: run \`cargo build -p authbridge\` in ${REPO} or set AUTHBRIDGE_BIN`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), "authbridge-authjs-"));
  const database = makeDatabase(dir, "authjs");
  const fullEnv = baseEnv(database.url, env);
  const child = spawn(BIN, ["serve", "--bind", "127.0.0.1:0"], {
    env: fullEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  const url = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`authbridge did not report "listening on" within ${STARTUP_TIMEOUT_MS} ms:\n${output}`));
    }, STARTUP_TIMEOUT_MS);
    const onData = (chunk) => {
      output += chunk;
      // eslint-disable-next-line no-control-regex
      const m = output.replace(/\x1b\[[0-9;]*m/g, "").match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (c) => {
      output += c;
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`authbridge serve exited early (code ${code}, signal ${signal}):\n${output}`));
    });
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  // Keep draining output (and keep it for diagnostics).
  child.stdout.on("data", (c) => {
    output += c;
    if (output.length > 2_000_000) output = output.slice(-1_000_000);
  });
  child.stderr.on("data", (c) => {
    output += c;
    if (output.length > 2_000_000) output = output.slice(-1_000_000);
  });

  const health = await fetch(`${url}/healthz`);
  if (health.status !== 200) throw new Error(`GET /healthz -> ${health.status}`);

  const server = {
    url,
    origin: url,
    env: fullEnv,
    dir,
    log: () => output,
    createUser(username, { email = "", password } = {}) {
      const args = ["createuser", username];
      if (email) args.push("--email", email);
      args.push("--password-stdin");
      const r = spawnSync(BIN, args, {
        env: fullEnv,
        input: `${password}\n`,
        encoding: "utf8",
        timeout: 120_000,
      });
      if (r.status !== 0) {
        throw new Error(`authbridge ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
      }
      return r.stdout;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(t);
      }
      database.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/** HTTP call to authbridge. Returns { status, headers, body, text }. */
export async function api(server, method, path, { json, form, headers = {} } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers } };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers["Content-Type"] = "application/json";
  } else if (form !== undefined) {
    init.body = new URLSearchParams(form).toString();
    init.headers["Content-Type"] = "application/x-www-form-urlencoded";
  }
  const res = await fetch(`${server.url}${path}`, init);
  const text = await res.text();
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, body, text };
}

/** Short description of a request/response pair for assertion messages. */
export function describe(req, res) {
  return `${req} -> ${res.status} ${res.text ?? JSON.stringify(res.body)}`;
}

// ---- JWT (simplejwt access tokens) -----------------------------------------

/**
 * An HS256 JWT of `claims` under the Django secret, as simplejwt signs it: for tokens the
 * server's own encoder did not make, e.g. one whose `exp` has already passed.
 */
export function signHs256(claims, secret) {
  const h = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");
  const p = Buffer.from(JSON.stringify(claims)).toString("base64url");
  const s = createHmac("sha256", secret).update(`${h}.${p}`).digest("base64url");
  return `${h}.${p}.${s}`;
}

/** Verify an HS256 JWT with the Django secret; returns { header, claims } or throws. */
export function verifyHs256(jwt, secret) {
  const [h, p, s] = jwt.split(".");
  const header = JSON.parse(Buffer.from(h, "base64url").toString());
  if (header.alg !== "HS256") throw new Error(`alg is ${header.alg}`);
  const expected = createHmac("sha256", secret).update(`${h}.${p}`).digest();
  const got = Buffer.from(s, "base64url");
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) throw new Error("bad HS256 signature");
  return { header, claims: JSON.parse(Buffer.from(p, "base64url").toString()) };
}

/** Optional: decode with PyJWT from the lead's interop venv, when it exists. */
export function pyjwtDecode(jwt, secret) {
  const py = join(REPO, ".venv-interop/bin/python");
  if (!existsSync(py)) return null;
  const r = spawnSync(
    py,
    [
      "-c",
      "import sys,json,jwt; print(json.dumps(jwt.decode(sys.argv[1], sys.argv[2], algorithms=['HS256'])))",
      jwt,
      secret,
    ],
    { encoding: "utf8", timeout: 30_000 },
  );
  if (r.status !== 0) {
    if (/No module named 'jwt'/.test(r.stderr)) return null;
    throw new Error(`PyJWT decode failed: ${r.stderr}`);
  }
  return JSON.parse(r.stdout);
}

/**
 * Django's own `JWTAuthentication` (the real simplejwt, settings of interop/django) on
 * authbridge's database with authbridge's secret: returns the authenticated user
 * `{id, username}` or throws with Django's error. Needs the venv made by scripts/setup-python.
 */
export function djangoAuthenticate(jwt, env) {
  const py = join(REPO, ".venv-interop/bin/python");
  if (!existsSync(py)) throw new Error("no .venv-interop: run scripts/setup-python");
  const code = [
    "import json, sys, django",
    "django.setup()",
    "from rest_framework_simplejwt.authentication import JWTAuthentication",
    "auth = JWTAuthentication()",
    "user = auth.get_user(auth.get_validated_token(sys.argv[1]))",
    "print(json.dumps({'id': user.pk, 'username': user.get_username()}))",
  ].join("\n");
  const r = spawnSync(py, ["-c", code, jwt], {
    cwd: join(REPO, "interop/django"),
    encoding: "utf8",
    timeout: 60_000,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DJANGO_SETTINGS_MODULE: "djproject.settings",
      DATABASE_URL: env.DATABASE_URL,
      DJANGO_SECRET_KEY: env.DJANGO_SECRET_KEY,
    },
  });
  if (r.status !== 0) throw new Error(`Django refused the token: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// ---- Auth.js side ------------------------------------------------------------

/** Minimal cookie jar for Set-Cookie headers coming out of Auth(). */
export class CookieJar {
  constructor() {
    this.cookies = new Map();
  }
  apply(setCookies) {
    for (const sc of setCookies) {
      const [pair, ...attrs] = sc.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let expired = false;
      for (const a of attrs) {
        const [k, v] = a.trim().split("=");
        if (k.toLowerCase() === "max-age" && Number(v) <= 0) expired = true;
        if (k.toLowerCase() === "expires" && Date.parse(a.trim().slice(8)) < Date.now()) expired = true;
      }
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  get(name) {
    return this.cookies.get(name);
  }
  names() {
    return [...this.cookies.keys()];
  }
  header(filter = () => true) {
    return [...this.cookies]
      .filter(([n]) => filter(n))
      .map(([n, v]) => `${n}=${v}`)
      .join("; ");
  }
  /** Session cookie value(s) reassembled like Auth.js's SessionStore does. */
  sessionToken(name) {
    const parts = [...this.cookies].filter(([n]) => n === name || n.startsWith(`${name}.`));
    parts.sort(([a], [b]) => Number(a.split(".").pop()) - Number(b.split(".").pop()));
    return parts.map(([, v]) => v).join("") || undefined;
  }
  clone() {
    const j = new CookieJar();
    j.cookies = new Map(this.cookies);
    return j;
  }
}

/** Logger that keeps Auth.js's messages instead of printing expected errors. */
export function memoryLogger() {
  const entries = [];
  return {
    entries,
    error: (e) => entries.push(["error", e?.type ?? e?.name, e?.message, e?.cause?.err?.message ?? e?.cause?.message]),
    warn: (code) => entries.push(["warn", code]),
    debug: () => {},
  };
}

/**
 * The example config, adjusted for bare @auth/core in tests: basePath "/auth",
 * the Auth.js secret, trustHost, a quiet logger.
 */
export function exampleConfig(server, { secret, refreshSkewSeconds, fetch: f, oidc = false, ...rest } = {}) {
  const logger = memoryLogger();
  const config = {
    ...createAuthbridgeConfig({
      authbridgeUrl: server.url,
      serviceToken: server.env.AUTHBRIDGE_SERVICE_TOKEN ?? "",
      basePath: "/auth",
      oidc,
      ...(refreshSkewSeconds !== undefined && { refreshSkewSeconds }),
      ...(f && { fetch: f }),
    }),
    secret: secret ?? server.env.AUTH_SECRET,
    trustHost: true,
    logger,
    ...rest,
  };
  return config;
}

/**
 * One HTTP request to Auth.js (`Auth(request, config)`), like a browser would
 * send it to `${appOrigin}/auth${path}`. Cookies come from and go to `jar`.
 */
export async function authjs(config, jar, method, path, { form, headers = {}, appOrigin = "http://localhost:3000" } = {}) {
  const init = { method, headers: { ...headers } };
  const cookie = jar.header();
  if (cookie) init.headers.cookie = cookie;
  if (form) {
    init.body = new URLSearchParams(form).toString();
    init.headers["content-type"] = "application/x-www-form-urlencoded";
  }
  const res = await Auth(new Request(`${appOrigin}/auth${path}`, init), config);
  const setCookies = res.headers.getSetCookie();
  jar.apply(setCookies);
  const text = await res.text();
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, setCookies, body, text };
}

/**
 * The browser sign-in flow of FACTS §8: GET /csrf, then POST
 * /callback/credentials with X-Auth-Return-Redirect: 1.
 */
export async function signInCredentials(config, { username, password, jar = new CookieJar(), appOrigin } = {}) {
  const csrf = await authjs(config, jar, "GET", "/csrf", { appOrigin });
  if (csrf.status !== 200 || !csrf.body?.csrfToken) {
    throw new Error(`GET /auth/csrf -> ${csrf.status} ${csrf.text}`);
  }
  const callbackUrl = `${appOrigin ?? "http://localhost:3000"}/dashboard`;
  const res = await authjs(config, jar, "POST", "/callback/credentials", {
    appOrigin,
    headers: { "X-Auth-Return-Redirect": "1" },
    form: { username, password, csrfToken: csrf.body.csrfToken, callbackUrl },
  });
  return { res, jar, callbackUrl };
}

export const V5_COOKIE = "authjs.session-token";
export const V5_SECURE_COOKIE = "__Secure-authjs.session-token";
export const V4_COOKIE = "next-auth.session-token";
export const V4_SECURE_COOKIE = "__Secure-next-auth.session-token";

/** Decode a v5 session token with the real @auth/core decoder. */
export async function decodeSession(token, secret, salt = V5_COOKIE) {
  return decodeV5({ token, secret, salt });
}

/** Cookie header carrying a session token under `name` (chunked as Auth.js would if asked). */
export function sessionCookieHeader(name, token, { chunk = 0 } = {}) {
  if (!chunk || token.length <= chunk) return `${name}=${token}`;
  const parts = [];
  for (let i = 0; i * chunk < token.length; i++) parts.push(`${name}.${i}=${token.slice(i * chunk, (i + 1) * chunk)}`);
  return parts.join("; ");
}

/**
 * Independent Auth.js v5 token encoder (node:crypto only): dir + A256CBC-HS512,
 * key = HKDF-SHA256(secret, salt, "Auth.js Generated Encryption Key (salt)", 64).
 * Used to mint tokens the library never would, e.g. without `kid`.
 */
export async function encodeV5Raw(payload, secret, salt = V5_COOKIE, { kid } = {}) {
  const { hkdfSync, createCipheriv } = await import("node:crypto");
  const key = Buffer.from(hkdfSync("sha256", secret, salt, `Auth.js Generated Encryption Key (${salt})`, 64));
  const header = { alg: "dir", enc: "A256CBC-HS512", ...(kid && { kid }) };
  const h = Buffer.from(JSON.stringify(header)).toString("base64url");
  const iv = randomBytes(16);
  const cipher = createCipheriv("aes-256-cbc", key.subarray(32), iv);
  const ct = Buffer.concat([cipher.update(JSON.stringify(payload)), cipher.final()]);
  const aad = Buffer.from(h, "ascii");
  const al = Buffer.alloc(8);
  al.writeBigUInt64BE(BigInt(aad.length * 8));
  const tag = createHmac("sha512", key.subarray(0, 32))
    .update(Buffer.concat([aad, iv, ct, al]))
    .digest()
    .subarray(0, 32);
  return [h, "", iv.toString("base64url"), ct.toString("base64url"), tag.toString("base64url")].join(".");
}
