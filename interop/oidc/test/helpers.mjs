// Shared helpers for the OpenID Connect interop tests: authbridge as the provider, real relying
// parties (Auth.js, oauth4webapi, Better Auth, Chromium) as its clients.
//
// - startProvider(): the real authbridge binary with AUTHBRIDGE_OIDC_ENABLED on a port chosen
//   before it starts (the issuer, AUTHBRIDGE_PUBLIC_URL, must name it byte for byte), a database
//   of its own (../../shared/db.mjs) or a given one (two instances on one PostgreSQL).
// - Browser: what a browser does over HTTP: a cookie jar per host, redirects followed by hand,
//   forms read from the HTML (hidden fields such as the CSRF token included) and submitted.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { BACKEND, makeDatabase } from "../../shared/db.mjs";

export { BACKEND };
export const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, "../../..");
export const BIN = process.env.AUTHBRIDGE_BIN || join(REPO, "target/debug/authbridge");
const STARTUP_TIMEOUT_MS = Number(process.env.AUTHBRIDGE_STARTUP_TIMEOUT_MS || 60_000);

export const randomSecret = (n = 32) => randomBytes(n).toString("base64url");

/** A TCP port free right now on 127.0.0.1 (the issuer must be known before authbridge starts). */
export async function freePort() {
  return new Promise((resolvePort, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolvePort(port));
    });
  });
}

/**
 * A client registration for AUTHBRIDGE_OIDC_clients (RFC 7591 names). Confidential unless
 * `public`; the secret is long and random as config/oidc.rs demands.
 */
export function client(redirectUris, { id, public: isPublic = false, firstParty = false, postLogout = [], alg, name } = {}) {
  const c = {
    client_id: id ?? `rp-${randomBytes(6).toString("hex")}`,
    redirect_uris: [].concat(redirectUris),
    first_party: firstParty,
    public: isPublic,
  };
  if (!isPublic) c.client_secret = randomSecret(32);
  if (postLogout.length) c.post_logout_redirect_uris = postLogout;
  if (alg) c.id_token_signed_response_alg = alg;
  if (name) c.client_name = name;
  return c;
}

/**
 * Start authbridge as an OIDC provider. Options: `clients` (registrations), `env` (overrides;
 * undefined removes), `database` ({url, drop}) to share one, `publicUrl` to serve another
 * instance's issuer. Returns { url, issuer, port, env, log(), createUser(), cli(), stop() }.
 */
export async function startProvider({ clients = [], env = {}, database, publicUrl, label = "oidc" } = {}) {
  if (!existsSync(BIN)) throw new Error(`authbridge binary not found at ${BIN}: cargo build -p authbridge`);
  const dir = mkdtempSync(join(tmpdir(), "authbridge-oidc-"));
  const ownDb = !database;
  const db = database ?? makeDatabase(dir, label);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const fullEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    RUST_BACKTRACE: "1",
    ...(process.env.RUST_LOG && { RUST_LOG: process.env.RUST_LOG }),
    DATABASE_URL: db.url,
    DJANGO_SECRET_KEY: `interop-${randomSecret(48)}`,
    AUTHBRIDGE_SERVICE_TOKEN: randomSecret(),
    SIMPLE_JWT_ROTATE_REFRESH_TOKENS: "true",
    SIMPLE_JWT_BLACKLIST_AFTER_ROTATION: "true",
    SIMPLE_JWT_REFRESH_TOKEN_GRACE_PERIOD: "0",
    PASSWORD_HASHERS: "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    AUTHBRIDGE_OIDC_ENABLED: "true",
    AUTHBRIDGE_PUBLIC_URL: publicUrl ?? url,
    AUTHBRIDGE_OIDC_clients: JSON.stringify(clients),
  };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || v === null) delete fullEnv[k];
    else fullEnv[k] = String(v);
  }
  const child = spawn(BIN, ["serve", "--bind", `127.0.0.1:${port}`], { env: fullEnv, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (c) => {
    output += c;
    if (output.length > 2_000_000) output = output.slice(-1_000_000);
  };
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  await new Promise((ready, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`authbridge did not start within ${STARTUP_TIMEOUT_MS} ms:\n${output}`));
    }, STARTUP_TIMEOUT_MS);
    const check = () => {
      // eslint-disable-next-line no-control-regex
      if (/listening on/.test(output.replace(/\x1b\[[0-9;]*m/g, ""))) {
        clearTimeout(timer);
        child.stdout.off("data", check);
        child.stderr.off("data", check);
        ready();
      }
    };
    child.stdout.on("data", check);
    child.stderr.on("data", check);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`authbridge serve exited early (code ${code}, signal ${signal}):\n${output}`));
    });
  });
  const health = await fetch(`${url}/healthz`);
  if (health.status !== 200) throw new Error(`GET /healthz -> ${health.status}`);

  const run = (args, input) => {
    const r = spawnSync(BIN, args, { env: fullEnv, input, encoding: "utf8", timeout: 120_000 });
    if (r.status !== 0) throw new Error(`authbridge ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  return {
    url,
    port,
    issuer: fullEnv.AUTHBRIDGE_PUBLIC_URL,
    env: fullEnv,
    database: db,
    dir,
    log: () => output,
    /** A Django user made by `authbridge createuser` (Django's hasher); returns its id. */
    createUser(username, { email = "", password }) {
      const args = ["createuser", username];
      if (email) args.push("--email", email);
      args.push("--password-stdin");
      const out = run(args, `${password}\n`);
      const m = out.match(/\b(?:id|pk)\D{0,3}(\d+)/i) ?? out.match(/(\d+)/);
      return m ? Number(m[1]) : undefined;
    },
    cli: (args, input) => run(args, input),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(t);
      }
      if (ownDb) db.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- A browser over HTTP ------------------------------------------------------------------

/** Cookies per host (not per port, like a browser): enough for Lax, Path=/ cookies. */
export class CookieJar {
  constructor() {
    this.hosts = new Map();
  }
  jar(host) {
    if (!this.hosts.has(host)) this.hosts.set(host, new Map());
    return this.hosts.get(host);
  }
  apply(url, setCookies) {
    const jar = this.jar(new URL(url).hostname);
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
      if (expired) jar.delete(name);
      else jar.set(name, value);
    }
  }
  header(url) {
    return [...this.jar(new URL(url).hostname)].map(([n, v]) => `${n}=${v}`).join("; ");
  }
  get(url, name) {
    return this.jar(new URL(url).hostname).get(name);
  }
}

/** Input fields of the first <form> (or the one matching `pick`) of an HTML page. */
export function parseForms(html, base) {
  const forms = [];
  const formRe = /<form\b([^>]*)>([\s\S]*?)<\/form>/gi;
  let m;
  while ((m = formRe.exec(html))) {
    const attrs = attributes(m[1]);
    const fields = [];
    const inner = m[2];
    const inputRe = /<(input|button|textarea)\b([^>]*)>/gi;
    let i;
    while ((i = inputRe.exec(inner))) {
      const a = attributes(i[2]);
      if (!a.name) continue;
      fields.push({ tag: i[1].toLowerCase(), type: (a.type ?? (i[1].toLowerCase() === "button" ? "submit" : "text")).toLowerCase(), name: a.name, value: a.value ?? "" });
    }
    forms.push({
      action: new URL(decodeEntities(attrs.action ?? ""), base).toString(),
      method: (attrs.method ?? "GET").toUpperCase(),
      fields,
      html: m[0],
    });
  }
  return forms;
}

function attributes(text) {
  const out = {};
  const re = /([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g;
  let m;
  while ((m = re.exec(text))) out[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? "");
  return out;
}

export function decodeEntities(s) {
  return s
    .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(Number(d)))
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

/**
 * A browser: `get`/`submit` one request at a time, `follow` redirects while they stay on
 * `stayOn` hosts. `route(url)` may rewrite where a request really goes (two instances behind
 * one issuer); `apps` maps an origin to an in-process handler (Request -> Response), e.g. Auth().
 */
export class Browser {
  constructor({ route = (u) => u, apps = {} } = {}) {
    this.jar = new CookieJar();
    this.route = route;
    this.apps = apps;
    this.history = [];
  }
  async request(method, url, { form, json, headers = {} } = {}) {
    const target = this.route(url);
    const init = { method, headers: { ...headers }, redirect: "manual" };
    const cookie = this.jar.header(url);
    if (cookie) init.headers.cookie = cookie;
    if (form) {
      init.body = new URLSearchParams(form).toString();
      init.headers["content-type"] = "application/x-www-form-urlencoded";
      init.headers.origin = new URL(url).origin;
    } else if (json !== undefined) {
      init.body = JSON.stringify(json);
      init.headers["content-type"] = "application/json";
      init.headers.origin = new URL(url).origin;
    }
    const origin = new URL(url).origin;
    const app = this.apps[origin];
    const res = app ? await app(new Request(url, init)) : await fetch(target, init);
    this.jar.apply(url, res.headers.getSetCookie());
    const text = await res.text();
    const location = res.headers.get("location");
    const out = { url, status: res.status, headers: res.headers, text, location: location ? new URL(location, url).toString() : null };
    this.history.push(`${method} ${url} -> ${res.status}${location ? ` ${out.location}` : ""}`);
    return out;
  }
  get(url, opts) {
    return this.request("GET", url, opts);
  }
  /** Follow redirects from `res` while they stay on one of `hosts` (origins); returns the last. */
  async follow(res, hosts) {
    let r = res;
    for (let n = 0; n < 20 && r.location && r.status >= 300 && r.status < 400; n++) {
      if (hosts && !hosts.includes(new URL(r.location).origin)) return r;
      r = await this.get(r.location);
    }
    return r;
  }
  /** Submit a form of page `res`: `values` fill fields by name, `button` picks a submit button. */
  async submit(res, values = {}, { pick = () => true, button } = {}) {
    const form = parseForms(res.text, res.url).find(pick);
    if (!form) throw new Error(`no form on ${res.url} (${res.status}):\n${res.text.slice(0, 2000)}`);
    const data = {};
    let clicked = false;
    for (const f of form.fields) {
      if (f.type === "submit") {
        if (!clicked && (button === undefined || button(f))) {
          data[f.name] = f.value;
          clicked = true;
        }
        continue;
      }
      if (f.type === "checkbox" || f.type === "radio") continue;
      data[f.name] = f.value;
    }
    Object.assign(data, values);
    return this.request(form.method, form.action, { form: data });
  }
  trace() {
    return this.history.join("\n");
  }
}

/** The login form: fields named like username/password filled in. */
export async function login(browser, page, username, password) {
  const form = parseForms(page.text, page.url).find((f) => f.fields.some((x) => x.type === "password"));
  if (!form) throw new Error(`no login form at ${page.url} (${page.status}):\n${page.text.slice(0, 3000)}\n${browser.trace()}`);
  const user = form.fields.find((x) => x.type === "text" || x.type === "email" || /user|login|email/i.test(x.name));
  const pass = form.fields.find((x) => x.type === "password");
  return browser.submit(page, { [user.name]: username, [pass.name]: password }, { pick: (f) => f === form || f.action === form.action });
}

/** On a consent page, press the button that allows (not the one that denies). */
export async function consent(browser, page, allow = true) {
  const isDeny = (f) => /deny|cancel|reject|decline|no\b/i.test(`${f.name} ${f.value}`);
  return browser.submit(page, {}, { button: (f) => (allow ? !isDeny(f) : isDeny(f)) });
}

/** Is this page authbridge's consent screen? */
export const isConsent = (res) => res.status === 200 && new URL(res.url).pathname.startsWith("/consent");
export const isLogin = (res) => res.status === 200 && new URL(res.url).pathname.startsWith("/login");

/**
 * From a request that sends the browser to the provider's /oauth2/authorize, through login
 * (and consent when asked) to the redirect back to the client; returns that redirect (its
 * `location` carries code, state, iss) without requesting it.
 */
export async function throughProvider(browser, authorizeUrl, provider, { username, password, allow = true } = {}) {
  const hosts = [new URL(provider.issuer).origin];
  let page = await browser.follow(await browser.get(authorizeUrl), hosts);
  if (isLogin(page) || parseForms(page.text, page.url).some((f) => f.fields.some((x) => x.type === "password"))) {
    page = await browser.follow(await login(browser, page, username, password), hosts);
  }
  if (isConsent(page)) page = await browser.follow(await consent(browser, page, allow), hosts);
  if (!page.location) {
    throw new Error(`the provider did not send the browser back: ${page.status} ${page.url}\n${page.text.slice(0, 2000)}\n${browser.trace()}`);
  }
  return page;
}

/** A JWT's parts, unverified. */
export function decodeJwt(jwt) {
  const [h, p] = jwt.split(".");
  return {
    header: JSON.parse(Buffer.from(h, "base64url").toString()),
    claims: JSON.parse(Buffer.from(p, "base64url").toString()),
  };
}

/** No response of the provider is a 5xx; `what` names the request in the message. */
export function no5xx(assert, res, what) {
  assert.ok(res.status < 500, `${what} -> ${res.status} ${res.text?.slice(0, 500)}`);
}
