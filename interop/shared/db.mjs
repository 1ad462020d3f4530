// The database an interop suite runs on: INTEROP_BACKEND=sqlite (default) or postgres.
//
// postgres needs TEST_DATABASE_URL (a server where the user may CREATE DATABASE): every
// authbridge a test starts gets a database of its own, named uniquely, dropped at stop, so runs
// and files never collide. SQL goes through the Python of .venv-interop (psycopg, sqlite3), which
// scripts/setup-python makes; the suites' run.sh call it.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const PYTHON = join(REPO, ".venv-interop/bin/python");

export const BACKEND = process.env.INTEROP_BACKEND || "sqlite";
if (!["sqlite", "postgres"].includes(BACKEND)) throw new Error(`INTEROP_BACKEND=${BACKEND}: sqlite or postgres`);
if (BACKEND === "postgres" && !process.env.TEST_DATABASE_URL) {
  throw new Error("INTEROP_BACKEND=postgres needs TEST_DATABASE_URL");
}

function python(code, args) {
  if (!existsSync(PYTHON)) throw new Error(`no ${PYTHON}: run scripts/setup-python`);
  const r = spawnSync(PYTHON, ["-c", code, ...args], { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

const ADMIN = `
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True, connect_timeout=10) as c:
    c.execute(sys.argv[2])
`;

/**
 * A fresh database for one authbridge: `{ url, backend, drop() }`. SQLite: a file in `dir`.
 * PostgreSQL: CREATE DATABASE on TEST_DATABASE_URL's server (an unreachable server throws).
 */
export function makeDatabase(dir, label = "interop") {
  if (BACKEND === "sqlite") {
    return { backend: "sqlite", url: `sqlite:///${join(dir, "db.sqlite3")}`, drop() {} };
  }
  const admin = process.env.TEST_DATABASE_URL;
  const name = `authbridge_${label.replace(/[^a-z0-9]/gi, "_").toLowerCase().slice(0, 20)}_${randomBytes(5).toString("hex")}`;
  python(ADMIN, [admin, `CREATE DATABASE "${name}"`]);
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return {
    backend: "postgres",
    url: u.toString(),
    drop() {
      python(ADMIN, [admin, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`]);
    },
  };
}

/** Run one statement on the database at `url`; returns the row count. */
export function execute(url, statement) {
  if (url.startsWith("sqlite://")) {
    const path = url.replace(/^sqlite:\/\//, "");
    const code = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); n = c.execute(sys.argv[2]).rowcount; c.commit(); print(n)";
    return Number(python(code, [path, statement]));
  }
  const code = `
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True, connect_timeout=10) as c:
    print(c.execute(sys.argv[2]).rowcount)
`;
  return Number(python(code, [url, statement]));
}
