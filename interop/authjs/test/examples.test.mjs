// examples/authjs as a Next.js app would consume it: auth.ts type-checks against
// next-auth@5 (the Next.js wrapper of @auth/core 0.41.3), and the default export of
// authbridge-config.mjs is built from the environment. No authbridge needed here.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { EXAMPLE, HERE, REPO } from "./helpers.mjs";

const EXAMPLE_DIR = join(REPO, "examples/authjs");
const PROJECT = join(HERE, "..");

test("examples/authjs/auth.ts, proxy.ts and middleware.ts type-check against next-auth@5 (tsc --strict)", () => {
  // Copy into a folder inside this package so `next-auth` resolves from its node_modules.
  const dir = mkdtempSync(join(PROJECT, ".tscheck-"));
  try {
    for (const f of ["auth.ts", "proxy.ts", "middleware.ts", "authbridge-config.mjs", "authbridge-config.d.mts"]) {
      copyFileSync(join(EXAMPLE_DIR, f), join(dir, f));
    }
    // A route handler and a use of the augmented types, as in the README.
    writeFileSync(
      join(dir, "route.ts"),
      `export { GET, POST } from "./auth";\n` +
        `import { auth } from "./auth";\n` +
        `import type { JWT } from "next-auth/jwt";\n` +
        `export async function token(): Promise<string | undefined> {\n` +
        `  const session = await auth();\n` +
        `  if (!session || session.error === "RefreshTokenError") return undefined;\n` +
        `  return session.accessToken;\n` +
        `}\n` +
        `export const t: JWT = { accessToken: "a", refreshToken: "r", accessTokenExpires: 1 };\n`,
    );
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: "es2022",
          module: "esnext",
          moduleResolution: "bundler",
          allowJs: true,
          // next-auth's own .d.ts files import `next` types, which are not installed here.
          skipLibCheck: true,
          types: ["node"],
        },
        files: ["auth.ts", "proxy.ts", "middleware.ts", "route.ts"],
      }),
    );
    const r = spawnSync(process.execPath, [join(PROJECT, "node_modules/typescript/bin/tsc"), "-p", dir], {
      encoding: "utf8",
      timeout: 120_000,
    });
    assert.equal(r.status, 0, `tsc failed:\n${r.stdout}\n${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("default export of authbridge-config.mjs is built from the environment", () => {
  const script = `
    const m = await import(${JSON.stringify(EXAMPLE)});
    const c = m.default;
    const oidc = c.providers.find((p) => p.id === "oidc");
    console.log(JSON.stringify({
      basePath: c.basePath, strategy: c.session.strategy,
      ids: c.providers.map((p) => p.id), oidc: oidc && { type: oidc.type, issuer: oidc.issuer, clientId: oidc.clientId },
      callbacks: Object.keys(c.callbacks).sort(),
    }));`;
  const run = (env) =>
    spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      env: { PATH: process.env.PATH, ...env },
      encoding: "utf8",
    });
  const a = run({ AUTHBRIDGE_URL: "http://127.0.0.1:1" });
  assert.equal(a.status, 0, a.stderr);
  assert.deepEqual(JSON.parse(a.stdout), {
    basePath: "/api/auth",
    strategy: "jwt",
    ids: ["credentials"],
    callbacks: ["jwt", "session", "signIn"],
  });
  const b = run({ AUTH_OIDC_ISSUER: "https://idp.example", AUTH_OIDC_ID: "cid", AUTH_OIDC_SECRET: "cs" });
  assert.equal(b.status, 0, b.stderr);
  assert.deepEqual(JSON.parse(b.stdout).oidc, { type: "oidc", issuer: "https://idp.example", clientId: "cid" });
  assert.deepEqual(JSON.parse(b.stdout).ids, ["credentials", "oidc"]);
});

test("authorize() without AUTHBRIDGE_URL fails loudly instead of pretending bad credentials", async () => {
  const saved = process.env.AUTHBRIDGE_URL;
  delete process.env.AUTHBRIDGE_URL;
  try {
    const { createAuthbridgeConfig } = await import(EXAMPLE);
    const c = createAuthbridgeConfig();
    await assert.rejects(c.providers[0].authorize({ username: "a", password: "b" }), /AUTHBRIDGE_URL/);
  } finally {
    if (saved !== undefined) process.env.AUTHBRIDGE_URL = saved;
  }
});
