-- wrk script of bench/gateway: one GET of BENCH_PATH, with `Authorization: Bearer BENCH_ACCESS`
-- when that is set; prints one BENCHJSON line (as bench.lua does) for the report.
local path = os.getenv("BENCH_PATH") or "/app/small"
local access = os.getenv("BENCH_ACCESS") or ""
local label = os.getenv("BENCH_LABEL") or path

function init(args)
   local headers = {}
   if access ~= "" then
      headers["Authorization"] = "Bearer " .. access
   end
   req = wrk.format("GET", path, headers)
end

function request()
   return req
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'BENCHJSON {"scenario":"%s","requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
      '"status_errors":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d}\n',
      label, summary.requests, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      latency.mean, e.status, e.connect, e.read, e.write, e.timeout))
end
