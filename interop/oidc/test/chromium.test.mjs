// A real browser (Debian's headless Chromium, driven by playwright-core) signs in to an Auth.js
// app through authbridge's login and consent pages, and axe-core checks the provider's pages
// (login, login with an error, consent, logout, error) in light and dark colour schemes: no
// serious or critical violation. SCREENSHOTS=1 writes docs/img/oidc-<page>-<light|dark|phone>.png.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { Auth } from "@auth/core";
import { chromium } from "playwright-core";

import { authjsConfig } from "./authjs-app.mjs";
import { BACKEND, client, freePort, REPO, startProvider } from "./helpers.mjs";

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const SHOTS = process.env.SCREENSHOTS === "1" ? join(REPO, "docs/img") : null;
const PASSWORD = "correct horse battery staple";

let provider;
let app;
let appUrl;
let context;
let userDataDir;
let rp;
const findings = [];

/** The Auth.js app over real HTTP: /auth/* is Auth(), / shows who is signed in. */
async function startApp(config, port) {
  const server = http.createServer(async (req, res) => {
    try {
      const url = `http://localhost:${port}${req.url}`;
      let body;
      if (req.method === "POST") {
        const chunks = [];
        for await (const c of req) chunks.push(c);
        body = Buffer.concat(chunks);
      }
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) headers.set(k, [].concat(v).join(", "));
      if (req.url.startsWith("/auth/")) {
        const r = await Auth(new Request(url, { method: req.method, headers, body }), config);
        res.statusCode = r.status;
        for (const [k, v] of r.headers) if (k !== "set-cookie") res.setHeader(k, v);
        const cookies = r.headers.getSetCookie();
        if (cookies.length) res.setHeader("set-cookie", cookies);
        res.end(Buffer.from(await r.arrayBuffer()));
        return;
      }
      const s = await Auth(new Request(`http://localhost:${port}/auth/session`, { headers }), config);
      const session = await s.json();
      res.setHeader("content-type", "text/html; charset=utf-8");
      res.end(`<!doctype html><html lang="en"><title>App</title><main>${session?.user ? `<p id="who">Signed in as ${session.user.email} (id ${session.user.id})</p>` : `<a href="/auth/signin">Sign in</a>`}</main></html>`);
    } catch (e) {
      res.statusCode = 500;
      res.end(String(e?.stack ?? e));
    }
  });
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  return server;
}

before(async () => {
  const port = await freePort();
  appUrl = `http://localhost:${port}`;
  rp = client(`${appUrl}/auth/callback/authbridge`, { name: "Example App", postLogout: [`${appUrl}/`] });
  provider = await startProvider({ clients: [rp], label: "chromium", env: { AUTHBRIDGE_BRANDING_PRODUCT_NAME: "Example Co." } });
  provider.createUser("ada", { email: "ada@example.com", password: PASSWORD });
  app = await startApp(authjsConfig(provider, rp), port);
  userDataDir = mkdtempSync(join(tmpdir(), "authbridge-oidc-chromium-"));
  context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: ARGS });
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
});
after(async () => {
  await context?.close();
  await new Promise((r) => (app ? app.close(r) : r()));
  await provider?.stop();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  if (findings.length) console.log(findings.join("\n"));
});

/** axe-core in the page (evaluated through the DevTools protocol, so the page's CSP stays on). */
async function axe(page, name) {
  for (const scheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.evaluate(AXE);
    const violations = await page.evaluate(async () => (await globalThis.axe.run(document, { resultTypes: ["violations"] })).violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 3) })));
    for (const v of violations) findings.push(`axe ${name} (${scheme}): ${v.impact} ${v.id}: ${v.help} ${v.nodes.join(", ")}`);
    const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    assert.deepEqual(bad, [], `axe on the ${name} page (${scheme}): ${JSON.stringify(bad, null, 1)}`);
  }
  await page.emulateMedia({ colorScheme: "light" });
}

/** Screenshots of the current page: light, dark, and a phone-sized viewport. */
async function shots(page, name) {
  if (!SHOTS) return;
  const size = page.viewportSize();
  await page.emulateMedia({ colorScheme: "light" });
  await page.screenshot({ path: join(SHOTS, `oidc-${name}-light.png`) });
  await page.emulateMedia({ colorScheme: "dark" });
  await page.screenshot({ path: join(SHOTS, `oidc-${name}-dark.png`) });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ colorScheme: "light" });
  await page.screenshot({ path: join(SHOTS, `oidc-${name}-phone.png`), fullPage: true });
  if (size) await page.setViewportSize(size);
}

/** The page the provider shows, checked: no-store, CSP with frame-ancestors 'none'. */
function assertPageHeaders(res, name) {
  const h = res.headers();
  assert.match(h["cache-control"] ?? "", /no-store/, `${name}: Cache-Control`);
  assert.match(h["content-security-policy"] ?? "", /frame-ancestors 'none'/, `${name}: CSP frame-ancestors`);
}

test(`Chromium: Auth.js → authbridge login → consent → Auth.js, pages pass axe (${BACKEND})`, async () => {
  const page = await context.newPage();
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`${appUrl}/auth/signin`);
  await page.getByRole("button", { name: /authbridge/i }).click();
  await page.waitForURL((u) => u.toString().startsWith(`${provider.url}/login`));
  const loginRes = await page.reload();
  assertPageHeaders(loginRes, "login");
  await axe(page, "login");
  await shots(page, "login");

  // A wrong password: the same page with an announced error.
  await page.locator("input[type=password]").fill("wrong password");
  await page.locator('input:not([type=hidden]):not([type=password]):not([type=submit]):not([type=checkbox])').first().fill("ada");
  await Promise.all([page.waitForLoadState("load"), page.locator("form:has(input[type=password]) [type=submit]").first().click()]);
  assert.ok(page.url().startsWith(`${provider.url}/login`), `still on the login page: ${page.url()}`);
  const alert = page.locator('[role=alert], [aria-live]');
  assert.ok((await alert.count()) > 0, "the error is announced (role=alert or aria-live)");
  await axe(page, "login-error");
  await shots(page, "login-error");

  await page.locator('input:not([type=hidden]):not([type=password]):not([type=submit]):not([type=checkbox])').first().fill("ada");
  await page.locator("input[type=password]").fill(PASSWORD);
  await Promise.all([page.waitForURL((u) => !u.toString().startsWith(`${provider.url}/login`)), page.locator("form:has(input[type=password]) [type=submit]").first().click()]);

  assert.ok(page.url().startsWith(`${provider.url}/consent`), `a third-party client asks for consent: ${page.url()}`);
  assert.match(await page.content(), /Example App/, "the consent page names the client");
  await axe(page, "consent");
  await shots(page, "consent");
  const allow = page.locator("form [type=submit]").filter({ hasNotText: /deny|cancel|decline/i }).first();
  await Promise.all([page.waitForURL((u) => u.toString().startsWith(appUrl)), allow.click()]);
  await page.waitForURL(`${appUrl}/`);
  assert.match(await page.locator("#who").innerText(), /Signed in as ada@example\.com/);
  await page.close();
});

test("Chromium: the logout and error pages pass axe", async () => {
  const page = await context.newPage();
  await page.setViewportSize({ width: 1280, height: 800 });
  const logout = await page.goto(`${provider.url}/logout`);
  assert.ok(logout.status() < 400, `GET /logout: ${logout.status()}`);
  assertPageHeaders(logout, "logout");
  await axe(page, "logout");
  await shots(page, "logout");

  const error = await page.goto(`${provider.url}/oauth2/authorize?client_id=nobody&response_type=code&redirect_uri=https%3A%2F%2Fevil.example%2F`);
  assert.ok(error.status() >= 400 && error.status() < 500, `an error page: ${error.status()}`);
  assert.ok(page.url().startsWith(provider.url), "no redirect to the unregistered URI");
  await axe(page, "error");
  await shots(page, "error");

  // Logging out for real: the confirm button ends the provider session.
  await page.goto(`${provider.url}/logout`);
  const button = page.locator("form [type=submit]").filter({ hasNotText: /cancel|stay/i }).first();
  if (await button.count()) {
    await Promise.all([page.waitForLoadState("load"), button.click()]);
    const res = await page.goto(`${appUrl}/auth/signin`);
    assert.ok(res.ok());
  }
  await page.close();
});
