"""Concurrent login load: N threads, one POST each, released together; prints status counts,
p50/p99/max latency, and the server's RSS (VmRSS/VmHWM) before and after."""
import http.client, json, sys, threading, time, collections

def rss(pid):
    out = {}
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(("VmRSS", "VmHWM")):
            k, v = line.split(":"); out[k] = int(v.split()[0]) // 1024
    return out

def run(port, pid, n, body_fn, timeout):
    results = [None] * n
    barrier = threading.Barrier(n)
    def one(i):
        body = body_fn(i)
        barrier.wait()
        t = time.monotonic()
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            c.request("POST", "/api/token/", body=body, headers={"content-type": "application/json"})
            r = c.getresponse(); r.read()
            results[i] = (r.status, time.monotonic() - t, r.getheader("retry-after"))
        except Exception as e:
            results[i] = (type(e).__name__, time.monotonic() - t, None)
    before = rss(pid)
    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    start = time.monotonic()
    for t in ts: t.start()
    for t in ts: t.join()
    wall = time.monotonic() - start
    time.sleep(1)
    after = rss(pid)
    lat = sorted(r[1] for r in results)
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
    print(json.dumps({
        "n": n, "status": dict(collections.Counter(str(r[0]) for r in results)),
        "p50": round(q(0.5), 3), "p99": round(q(0.99), 3), "max": round(lat[-1], 3),
        "wall": round(wall, 2), "rss_mb_before": before, "rss_mb_after": after,
    }))

if __name__ == "__main__":
    port, pid, scenario = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    if scenario == "distinct":
        run(port, pid, 120, lambda i: json.dumps({"username": f"ghost{i}", "password": "wrong"}), 120)
    elif scenario == "one_user":
        run(port, pid, 120, lambda i: json.dumps({"username": "alice", "password": f"wrong{i}"}), 120)
    elif scenario == "big":
        big = "x" * 2_400_000
        run(port, pid, 300, lambda i: json.dumps({"username": f"ghost{i}", "password": big}), 300)
