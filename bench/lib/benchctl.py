"""Small helpers for bench/run (standard library only, except psycopg for --postgres).

    benchctl.py free-port
    benchctl.py pg-create ADMIN_URL            -> prints "NAME URL" of a fresh database
    benchctl.py pg-drop ADMIN_URL NAME
    benchctl.py wait-http URL STATUS SECONDS   -> waits until GET URL answers STATUS
    benchctl.py check BASE SCENARIO            -> one request, checked (env as for bench.lua)
    benchctl.py db-probe DATABASE_URL          -> fails if a transaction is left open (write lock held)
    benchctl.py report RESULTS_DIR             -> the table, from RESULTS_DIR/runs.jsonl
"""
import json
import os
import socket
import sys
import time
import urllib.error
import urllib.request
import uuid
from urllib.parse import urlsplit, urlunsplit


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])


def pg_create(admin):
    import psycopg

    name = "authbridge_bench_" + uuid.uuid4().hex[:10]
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    p = urlsplit(admin)
    print(name, urlunsplit((p.scheme, p.netloc, "/" + name, p.query, "")))


def pg_drop(admin, name):
    import psycopg

    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def http(method, url, body=None, headers=None, timeout=10):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_http(url, status, seconds):
    deadline = time.monotonic() + float(seconds)
    last = None
    while time.monotonic() < deadline:
        try:
            code, _ = http("GET", url, timeout=2)
            if code == int(status):
                return
            last = f"status {code}"
        except OSError as e:
            last = str(e)
        time.sleep(0.1)
    sys.exit(f"benchctl: {url} did not answer {status} within {seconds}s ({last})")


def check(base, scenario):
    """One request of the scenario, exactly as the load will send it; the answer is checked."""
    js = {"Content-Type": "application/json", "Accept": "application/json"}
    if scenario == "verify":
        body = json.dumps({"token": os.environ["BENCH_ACCESS"]}).encode()
        code, out = http("POST", base + "/api/token/verify/", body, js)
        ok = code == 200 and json.loads(out) == {}
    elif scenario == "me":
        code, out = http("GET", base + "/api/me/", None,
                         {"Authorization": "Bearer " + os.environ["BENCH_ACCESS"], "Accept": "application/json"})
        ok = code == 200 and json.loads(out).get("username") == os.environ["BENCH_USERNAME"]
    elif scenario == "refresh":
        body = json.dumps({"refresh": os.environ["BENCH_SPARE_REFRESH"]}).encode()
        code, out = http("POST", base + "/api/token/refresh/", body, js)
        ok = code == 200 and set(json.loads(out)) == {"access", "refresh"}
    elif scenario == "authjs_session":
        code, out = http("GET", base + "/api/authjs/session", None,
                         {"Cookie": os.environ["BENCH_COOKIE"], "Accept": "application/json"})
        ok = code == 200 and str(json.loads(out).get("user", {}).get("id")) == os.environ["BENCH_USER_ID"]
    elif scenario == "login":
        code, out = http("POST", base + "/api/token/", os.environ["BENCH_LOGIN"].encode(), js)
        ok = code == 200 and {"access", "refresh"} <= set(json.loads(out))
    else:
        sys.exit(f"benchctl: unknown scenario {scenario}")
    if not ok:
        sys.exit(f"benchctl: {scenario} sanity request to {base} failed: {code} {out[:300]!r}")


def db_probe(url):
    """After a run nothing may still hold the database: both servers are idle by then.

    SQLite: take the write lock (BEGIN IMMEDIATE) within 2 s, else exit 1. PostgreSQL: a session
    of the bench database "idle in transaction" for over a second is exit 1 if it holds write or
    row locks (it would stall the runs after it), exit 2 (a warning) if it holds none.
    """
    if url.startswith("sqlite:"):
        import sqlite3

        path = url.split("://", 1)[1]
        path = path[1:] if path.startswith("/") else path
        conn = sqlite3.connect(path, timeout=2.0, isolation_level=None)
        t0 = time.monotonic()
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
        except sqlite3.OperationalError as e:
            sys.exit(f"benchctl: SQLite write lock still held {time.monotonic() - t0:.1f}s after the run ({e}): "
                     "a server left a write transaction open")
        finally:
            conn.close()
    else:
        import psycopg

        name = urlsplit(url).path.lstrip("/")
        q = ("SELECT a.pid, a.application_name, round(extract(epoch FROM now() - a.backend_start)),"
             " round(extract(epoch FROM now() - a.state_change)::numeric, 1), left(a.query, 60),"
             " (SELECT count(*) FROM pg_locks l WHERE l.pid = a.pid AND l.granted"
             "   AND l.locktype <> 'virtualxid' AND l.mode <> 'AccessShareLock')"
             " FROM pg_stat_activity a WHERE a.datname = %s AND a.pid <> pg_backend_pid()"
             " AND a.state LIKE 'idle in transaction%%' AND now() - a.state_change > interval '1 second'")
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            rows = conn.execute(q, (name,)).fetchall()
            if rows:
                time.sleep(1)
                rows = conn.execute(q, (name,)).fetchall()
        if rows:
            desc = "; ".join(
                f"pid {pid} (app {app!r}, connected {age}s ago, idle in transaction for {idle}s, "
                f"last query {query!r}, {locks} write/row locks)"
                for pid, app, age, idle, query, locks in rows
            )
            if any(r[5] for r in rows):
                sys.exit(f"benchctl: a session left a transaction open holding locks: {desc}")
            print(f"session(s) left idle in transaction, holding no write locks: {desc}", file=sys.stderr)
            sys.exit(2)


# ---------------------------------------------------------------------------------------------
# Report

TARGETS = {
    # scenario: (minimum authbridge req/s, minimum ratio vs Django or None, wording)
    "verify": (10_000, None, "tens of thousands req/s"),
    "refresh": (1_000, 10.0, "thousands/s, and >= 10x Django+simplejwt on the same DB"),
    "authjs_session": (10_000, None, "tens of thousands req/s"),
}


def fmt_ms(us):
    return f"{us / 1000:.2f} ms"


def fmt_rate(r):
    return f"{r:,.0f}"


def report(results_dir):
    runs = [json.loads(line) for line in open(os.path.join(results_dir, "runs.jsonl")) if line.strip()]
    meta = {}
    mp = os.path.join(results_dir, "meta.json")
    if os.path.exists(mp):
        meta = json.load(open(mp))
    order = []
    groups = {}
    for r in runs:
        key = (r["scenario"], r["server"])
        if key not in groups:
            order.append(key)
            groups[key] = []
        groups[key].append(r)

    def rate(r):
        return r["requests"] / (r["duration_us"] / 1e6)

    rows = []
    stats = {}
    for key in order:
        rs = groups[key]
        rates = [rate(r) for r in rs]
        mean = sum(rates) / len(rates)
        s = {
            "rate": mean,
            "rates": rates,
            "p50": sum(r["p50_us"] for r in rs) / len(rs),
            "p99": max(r["p99_us"] for r in rs),
            "non2xx": sum(r["status_errors"] for r in rs),
            "sockerr": sum(r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"] for r in rs),
            "exhausted": any(r.get("threads_exhausted", 0) for r in rs),
            "requests": sum(r["requests"] for r in rs),
        }
        stats[key] = s

    lines = []
    hdr = ["scenario", "server", "req/s (mean)", "per round", "p50", "p99", "non-2xx", "sock err",
           "authbridge/django"]
    lines.append("| " + " | ".join(hdr) + " |")
    lines.append("|" + "|".join(["---"] * len(hdr)) + "|")
    ratios = {}
    for key in order:
        scen, server = key
        s = stats[key]
        ratio = ""
        if server == "authbridge" and (scen, "django") in stats:
            d = stats[(scen, "django")]
            if d["rate"] > 0:
                rr = s["rate"] / d["rate"]
                paired = [a / b for a, b in zip(s["rates"], d["rates"]) if b]
                ratios[scen] = (rr, paired)
                ratio = f"**{rr:.1f}x**"
                if len(paired) > 1:
                    ratio += f" (rounds {min(paired):.1f}-{max(paired):.1f}x)"
            else:
                ratio = "n/a (Django completed nothing)"
        elif server == "authbridge":
            ratio = "n/a (authbridge only)" if scen == "authjs_session" else "— (Django not run)"
        rate_s = fmt_rate(s["rate"]) + (" (pool ran dry: lower bound)" if s["exhausted"] else "")
        lines.append("| " + " | ".join([
            scen, server, rate_s, " / ".join(fmt_rate(x) for x in s["rates"]),
            fmt_ms(s["p50"]), fmt_ms(s["p99"]), str(s["non2xx"]), str(s["sockerr"]), ratio,
        ]) + " |")

    # Targets.
    tlines = []
    for scen, (floor, min_ratio, words) in TARGETS.items():
        s = stats.get((scen, "authbridge"))
        if not s:
            continue
        ok = s["rate"] >= floor and s["non2xx"] == 0
        detail = f"{fmt_rate(s['rate'])} req/s"
        if min_ratio is not None:
            if scen in ratios:
                ok = ok and ratios[scen][0] >= min_ratio
                detail += f", {ratios[scen][0]:.1f}x Django"
            else:
                ok = False
                detail += ", no Django comparison"
        if s["non2xx"]:
            detail += f", {s['non2xx']} non-2xx"
        where = f" on {meta.get('db', '?')}"
        if scen == "refresh" and meta.get("db") != "sqlite":
            where += " (the issue states the rate for SQLite; shown for reference)"
        tlines.append(f"- `{scen}`{where} — target {words}: {detail} → **{'met' if ok else 'MISSED'}**")
    micro = meta.get("micro")
    if micro:
        ok = micro["v5_decode_per_s"] >= 100_000
        tlines.append(
            f"- Auth.js cookie decryption — target ≥100,000 decodes/s/core: "
            f"{fmt_rate(micro['v5_decode_per_s'])}/s on one core (v5 `decode_cookie`, 1 secret) "
            f"→ **{'met' if ok else 'MISSED'}**"
        )

    head = []
    if meta.get("aborted"):
        head.append(f"**RUN ABORTED: {meta['aborted']}** — the numbers below stop there and are not a result.")
        head.append("")
    if meta:
        head.append(
            f"{meta.get('date_utc')}, commit {meta.get('commit')}{' (+uncommitted changes)' if meta.get('dirty') else ''}, "
            f"{meta.get('cpu')} x{meta.get('cores')} cores, {meta.get('mem_gb')} GB, kernel {meta.get('kernel')}"
        )
        head.append(
            f"database: {meta.get('db')} ({meta.get('journal')}; {meta.get('db_dir')}: "
            f"{meta.get('fsync_per_s')} fsyncs/s); wrk {meta.get('wrk')}, "
            f"{meta.get('rounds')} rounds x {meta.get('duration_s')} s per server and scenario, alternating"
        )
        if meta.get("django_settings"):
            head.append(f"Django: gunicorn 2 sync workers, {meta['django_settings']}; "
                        f"Auth.js cookie: {meta.get('authjs_cookie') or '-'}")
        if meta.get("loadavg_start"):
            head.append(
                f"load average (1/5/15 min) before the load: {' '.join(meta['loadavg_start'])}, "
                f"after: {' '.join(meta.get('loadavg_end', ['?']))} (the load generator itself adds ~1-2)"
            )
        head.append("")
    out = "\n".join(head + lines)
    if meta.get("warnings"):
        out += "\n\nWarnings:\n\n" + "\n".join(f"- {w}" for w in meta["warnings"])
    if meta.get("aborted"):
        out += "\n\nTargets: not evaluated (run aborted)."
    elif tlines:
        out += "\n\nTargets:\n\n" + "\n".join(tlines)
    print(out)
    with open(os.path.join(results_dir, "table.md"), "w") as f:
        f.write(out + "\n")
    json.dump({"meta": meta, "stats": {f"{k[0]}/{k[1]}": v for k, v in stats.items()},
               "ratios": {k: {"mean": v[0], "per_round": v[1]} for k, v in ratios.items()}},
              open(os.path.join(results_dir, "summary.json"), "w"), indent=2)


if __name__ == "__main__":
    cmd, args = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    fns = {"free-port": free_port, "pg-create": pg_create, "pg-drop": pg_drop, "wait-http": wait_http,
           "check": check, "db-probe": db_probe, "report": report}
    if cmd not in fns:
        sys.exit(__doc__)
    fns[cmd](*args)
