"""bench/gateway: Django's small JSON view directly (gunicorn, 2 sync workers) and through
`authbridge serve --upstream`, in one run, the two alternating; wrk's ceiling on a trivial route
(nginx `return 200`); authbridge's RSS while 1 GB streams through it each way.

Scenarios (wrk, the same request to each server):
  direct          GET /app/small on gunicorn
  gateway         GET /app/small through authbridge, anonymous (a public path: proxied as is)
  gateway_bearer  the same with `Authorization: Bearer <access>`: authbridge verifies the token,
                  loads the user and adds the identity headers (Django's settings here leave
                  out RemoteUserMiddleware, so Django's work is the same in all three)
  ceiling         GET / on nginx `return 200` (what wrk itself reaches on this machine)
Throughput runs use -c CONNECTIONS; latency runs use -c1 (one request at a time, so p50 is the
time of one request and not queueing), and the added p50 is gateway minus direct, paired by round
(the median over rounds: a noisy round moves a mean, not a median).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "interop" / "gateway" / "tests"))

import requests  # noqa: E402

from gw import (  # noqa: E402
    DjangoServer,
    Gateway,
    create_users,
    free_port,
    gateway_config,
    make_database,
    manage,
    rmtree,
    stop_process,
    tmp_workdir,
)

SETTINGS = "gwsite.settings_plain"
LUA = REPO / "bench" / "wrk" / "gateway.lua"
USER = {"username": "bench", "email": "bench@example.com", "password": "bench-gateway-pw-4k9s2x"}


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def sh(*args) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, cwd=REPO, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


class Sampler:
    """Samples a process's RSS every `interval` seconds in a thread."""

    def __init__(self, pid: int, interval=0.02):
        self.pid, self.interval = pid, interval
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.samples.append(rss_kib(self.pid))
            time.sleep(self.interval)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def run_wrk(results: Path, name: str, url: str, path: str, connections: int, seconds: int,
            access: str = "", label: str | None = None) -> dict:
    env = dict(os.environ, BENCH_PATH=path, BENCH_ACCESS=access, BENCH_LABEL=label or name)
    out = results / f"{name}.txt"
    proc = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency",
                           "-s", str(LUA), url], env=env, capture_output=True, text=True, timeout=seconds + 60)
    out.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise SystemExit(f"wrk failed ({name}):\n{proc.stdout}\n{proc.stderr}")
    line = next((l for l in proc.stdout.splitlines() if l.startswith("BENCHJSON ")), None)
    if line is None:
        raise SystemExit(f"no BENCHJSON line in {out}")
    d = json.loads(line[len("BENCHJSON "):])
    d["rate"] = d["requests"] / (d["duration_us"] / 1e6)
    d["errors"] = d["status_errors"] + d["connect_errors"] + d["read_errors"] + d["write_errors"] + d["timeouts"]
    return d


class TrivialNginx:
    def __init__(self, workdir: Path):
        import shutil

        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        self.port = free_port()
        d = workdir / "nginx-ceiling"
        (d / "logs").mkdir(parents=True, exist_ok=True)
        conf = d / "nginx.conf"
        conf.write_text(f"""daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{self.port};
        location / {{ default_type application/json; return 200 '{{"ok": true}}'; }}
    }}
}}
""")
        self.proc = subprocess.Popen([binary, "-p", str(d), "-c", str(conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(self.url, timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise SystemExit("nginx (ceiling) did not start")
                time.sleep(0.1)

    def stop(self):
        stop_process(self.proc)


def stream_download(url: str, size: int, pid: int) -> dict:
    start_rss = rss_kib(pid)
    n = 0
    t0 = time.monotonic()
    with Sampler(pid) as s:
        with requests.get(f"{url}/app/download?size={size}", stream=True, timeout=600) as r:
            r.raise_for_status()
            for chunk in r.iter_content(1024 * 1024):
                n += len(chunk)
    secs = time.monotonic() - t0
    assert n == size, f"downloaded {n} of {size} bytes"
    return {"bytes": n, "seconds": round(secs, 2), "mb_per_s": round(n / secs / 1e6, 1),
            "rss_start_kib": start_rss, "rss_peak_kib": max(s.samples + [start_rss]),
            "rss_end_kib": rss_kib(pid), "samples": len(s.samples)}


def stream_upload(url: str, size: int, pid: int) -> dict:
    class Body:
        """An iterable with a length: requests sends it with Content-Length (Django under WSGI
        reads a chunked body as empty), one 1 MiB block at a time."""

        block = bytes(range(256)) * 4096

        def __len__(self):
            return size

        def __iter__(self):
            full, rest = divmod(size, len(self.block))
            for _ in range(full):
                yield self.block
            if rest:
                yield self.block[:rest]

    start_rss = rss_kib(pid)
    t0 = time.monotonic()
    with Sampler(pid) as s:
        r = requests.post(f"{url}/app/upload", data=Body(), timeout=600,
                          headers={"Content-Type": "application/octet-stream"})
    secs = time.monotonic() - t0
    assert r.status_code == 200 and r.json()["bytes"] == size, f"{r.status_code} {r.text[:200]}"
    return {"bytes": size, "seconds": round(secs, 2), "mb_per_s": round(size / secs / 1e6, 1),
            "rss_start_kib": start_rss, "rss_peak_kib": max(s.samples + [start_rss]),
            "rss_end_kib": rss_kib(pid), "samples": len(s.samples)}


def mean(xs):
    return sum(xs) / len(xs)


def median(xs):
    xs = sorted(xs)
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


def main():
    ap = argparse.ArgumentParser(prog="bench/gateway", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=10, help="seconds per throughput run (default 10)")
    ap.add_argument("--latency-duration", type=int, default=8, help="seconds per -c1 latency run (default 8)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds, each runs every scenario (default 3)")
    ap.add_argument("--connections", type=int, default=16, help="wrk -c for throughput (default 16)")
    ap.add_argument("--stream-bytes", type=int, default=1024**3, help="bytes streamed each way (default 1 GiB)")
    ap.add_argument("--binary", default=str(REPO / "target" / "release" / "authbridge"))
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (database, logs)")
    ap.add_argument("--no-build", action="store_true", help="(bench/gateway) use the existing release binary")
    args = ap.parse_args()

    binary = Path(args.binary)
    if not binary.is_file():
        raise SystemExit(f"{binary} not found: cargo build --release -p authbridge")
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    results = REPO / "bench" / "results" / f"{stamp}-gateway"
    results.mkdir(parents=True)
    latest = REPO / "bench" / "results" / "latest"
    if latest.is_symlink() or not latest.exists():
        latest.unlink(missing_ok=True)
        latest.symlink_to(results.name)

    def log(msg):
        print(f"[bench gateway {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    workdir = tmp_workdir("authbridge-bench-gateway-")
    db = make_database("sqlite", workdir, "bench")
    django = gateway = nginx = None
    meta = {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": sh("git", "rev-parse", "--short=12", "HEAD"),
        "dirty": bool(sh("git", "status", "--porcelain", "--untracked-files=no")),
        "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?"),
        "cores": os.cpu_count(), "kernel": platform.release(),
        "loadavg_start": open("/proc/loadavg").read().split()[:3],
        "wrk": sh("wrk", "--version").splitlines()[0] if sh("wrk", "--version") else "",
        "duration_s": args.duration, "latency_duration_s": args.latency_duration, "rounds": args.rounds,
        "connections": args.connections, "django": "gunicorn --workers 2 --worker-class sync, " + SETTINGS,
    }
    try:
        log("Django: migrate, bench user")
        manage(SETTINGS, db, "migrate", "--noinput", "-v0")
        create_users(SETTINGS, db, [USER])
        django = DjangoServer("wsgi", SETTINGS, db, workdir)
        # MAX_BODY_BYTES (default 100 MiB) raised for the streamed upload.
        config = gateway_config(MAX_BODY_BYTES=2 * args.stream_bytes)
        gateway = Gateway(db, workdir, config, upstream=django.url, binary=binary,
                          env={"RUST_LOG": "warn"})
        access = gateway.login(USER)["access"]
        nginx = TrivialNginx(workdir)
        for url in (django.url, gateway.url):
            r = requests.get(url + "/app/small", headers={"Authorization": f"Bearer {access}"}, timeout=10)
            assert r.status_code == 200 and r.json()["ok"] is True, f"{url}: {r.status_code} {r.text[:200]}"
        log(f"Django {django.url}, authbridge {gateway.url} (pid {gateway.proc.pid}), nginx {nginx.url}")

        scen = {
            "direct": (django.url, ""),
            "gateway": (gateway.url, ""),
            "gateway_bearer": (gateway.url, access),
        }
        for name, (url, tok) in scen.items():
            run_wrk(results, f"warmup-{name}", url, "/app/small", args.connections, 2, tok, name)
        runs = []
        for rnd in range(1, args.rounds + 1):
            order = list(scen) if rnd % 2 else list(reversed(scen))
            for name in order:
                url, tok = scen[name]
                d = run_wrk(results, f"r{rnd}-{name}", url, "/app/small", args.connections, args.duration, tok, name)
                d.update(round=rnd, kind="throughput")
                runs.append(d)
                log(f"round {rnd} {name:15s} {d['rate']:8.0f} req/s  p50 {d['p50_us'] / 1000:.2f} ms  errors {d['errors']}")
            for name in order:
                url, tok = scen[name]
                d = run_wrk(results, f"r{rnd}-{name}-c1", url, "/app/small", 1, args.latency_duration, tok, name)
                d.update(round=rnd, kind="latency")
                runs.append(d)
                log(f"round {rnd} {name:15s} -c1 p50 {d['p50_us'] / 1000:.3f} ms  p99 {d['p99_us'] / 1000:.3f} ms")
        ceiling = run_wrk(results, "ceiling", nginx.url, "/", args.connections, args.duration, "", "ceiling")
        log(f"ceiling (nginx return 200) {ceiling['rate']:.0f} req/s")

        log(f"streaming {args.stream_bytes} bytes down and up through authbridge, sampling its RSS")
        down = stream_download(gateway.url, args.stream_bytes, gateway.proc.pid)
        log(f"download: {down}")
        up = stream_upload(gateway.url, args.stream_bytes, gateway.proc.pid)
        log(f"upload: {up}")
        down_direct = stream_download(django.url, args.stream_bytes, gateway.proc.pid)
        meta["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    finally:
        for s in (nginx, gateway, django):
            if s is not None:
                s.stop()
        if args.keep:
            log(f"kept {workdir}")
        else:
            rmtree(workdir)

    summary = report(runs, ceiling, down, up, down_direct, meta)
    (results / "runs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in runs))
    (results / "summary.json").write_text(json.dumps({"meta": meta, **summary["data"]}, indent=2))
    (results / "table.md").write_text(summary["text"])
    print(summary["text"])
    log(f"results: {results}")


def report(runs, ceiling, down, up, down_direct, meta) -> dict:
    def pick(kind, name):
        return [r for r in runs if r["kind"] == kind and r["scenario"] == name]

    lines = [f"Gateway benchmark, {meta['date_utc']}, commit {meta['commit']}{' (dirty)' if meta['dirty'] else ''}, "
             f"{meta['cores']} cores ({meta['cpu']}), load {' '.join(meta['loadavg_start'])} -> "
             f"{' '.join(meta.get('loadavg_end', []))}", "",
             f"Throughput (wrk -t1 -c{meta['connections']}, {meta['rounds']} x {meta['duration_s']} s), "
             f"GET /app/small:", "",
             "| scenario | req/s (mean) | per round | p50 | p99 | errors | / direct |",
             "|---|---|---|---|---|---|---|"]
    data = {"throughput": {}, "latency": {}}
    direct = pick("throughput", "direct")
    for name in ("direct", "gateway", "gateway_bearer"):
        rs = pick("throughput", name)
        ratios = [r["rate"] / d["rate"] for r, d in zip(rs, direct)]
        m = mean([r["rate"] for r in rs])
        ratio = m / mean([d["rate"] for d in direct])
        data["throughput"][name] = {"rate": m, "rates": [r["rate"] for r in rs], "ratio": ratio,
                                    "round_ratios": ratios, "errors": sum(r["errors"] for r in rs)}
        per_round = ", ".join(f"{r['rate']:,.0f}" for r in rs)
        lines.append(f"| {name} | {m:,.0f} | {per_round} | "
                     f"{mean([r['p50_us'] for r in rs]) / 1000:.2f} ms | {max(r['p99_us'] for r in rs) / 1000:.2f} ms | "
                     f"{sum(r['errors'] for r in rs)} | {ratio:.2f} (rounds {min(ratios):.2f}-{max(ratios):.2f}) |")
    lines.append(f"| ceiling (nginx `return 200`) | {ceiling['rate']:,.0f} | | {ceiling['p50_us'] / 1000:.2f} ms | "
                 f"{ceiling['p99_us'] / 1000:.2f} ms | {ceiling['errors']} | |")
    data["ceiling"] = ceiling
    lines += ["", f"Latency (wrk -t1 -c1, one request at a time, {meta['rounds']} x {meta['latency_duration_s']} s; "
              "added p50 = the median over rounds of this p50 minus direct's p50 of the same round):", "",
              "| scenario | p50 per round | p90 (median) | p99 (worst) | added p50 vs direct (median, range) |",
              "|---|---|---|---|---|"]
    direct_lat = pick("latency", "direct")
    for name in ("direct", "gateway", "gateway_bearer"):
        rs = pick("latency", name)
        diffs = sorted((r["p50_us"] - d["p50_us"]) / 1000 for r, d in zip(rs, direct_lat))
        added = median(diffs)
        data["latency"][name] = {"round_p50_ms": [r["p50_us"] / 1000 for r in rs], "added_p50_ms": added,
                                 "round_added_p50_ms": diffs}
        per_round = ", ".join(f"{r['p50_us'] / 1000:.3f}" for r in rs)
        added_text = "" if name == "direct" else f"{added:+.3f} ms ({diffs[0]:+.3f} to {diffs[-1]:+.3f})"
        lines.append(f"| {name} | {per_round} ms | {median([r['p90_us'] for r in rs]) / 1000:.3f} ms | "
                     f"{max(r['p99_us'] for r in rs) / 1000:.3f} ms | {added_text} |")
    mib = 1024
    lines += ["", "Streaming through authbridge (its RSS sampled every 20 ms):", "",
              "| transfer | bytes | seconds | MB/s | RSS start | RSS peak | RSS end |", "|---|---|---|---|---|---|---|"]
    for name, s in (("download via authbridge", down), ("upload via authbridge", up),
                    ("download direct (for comparison)", down_direct)):
        lines.append(f"| {name} | {s['bytes']:,} | {s['seconds']} | {s['mb_per_s']} | {s['rss_start_kib'] / mib:.1f} MiB | "
                     f"{s['rss_peak_kib'] / mib:.1f} MiB | {s['rss_end_kib'] / mib:.1f} MiB |")
    data["stream"] = {"download": down, "upload": up, "download_direct": down_direct}
    t, l50 = data["throughput"], data["latency"]
    lines += ["", "Targets:",
              f"- throughput through the gateway >= 0.9 x direct: anonymous {t['gateway']['ratio']:.2f}, "
              f"with Bearer {t['gateway_bearer']['ratio']:.2f}",
              f"- added p50 < 0.3 ms: anonymous {l50['gateway']['added_p50_ms']:+.3f} ms, "
              f"with Bearer {l50['gateway_bearer']['added_p50_ms']:+.3f} ms",
              f"- memory flat while streaming {down['bytes']:,} bytes: download peak - start "
              f"{(down['rss_peak_kib'] - down['rss_start_kib']) / mib:+.1f} MiB, upload "
              f"{(up['rss_peak_kib'] - up['rss_start_kib']) / mib:+.1f} MiB", ""]
    return {"text": "\n".join(lines), "data": data}


if __name__ == "__main__":
    main()
