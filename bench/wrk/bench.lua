-- The one wrk script every scenario runs, against authbridge and Django alike.
--
-- Configured by environment variables (bench/run sets them):
--   BENCH_SCENARIO   verify | refresh | me | authjs_session | login
--   BENCH_ACCESS     an access token            (verify, me)
--   BENCH_COOKIE     a Cookie header value      (authjs_session)
--   BENCH_POOL       a file of refresh tokens, one a line, each used once (refresh)
--   BENCH_LOGIN      a JSON body for POST /api/token/ (login)
--   BENCH_THREADS    wrk's -t (refresh: how the pool is split; wrk starts each thread right
--                    after its setup(), so the count cannot be learnt in setup())
--
-- Requests are built once in init() where possible; refresh builds one request per token.
-- Each wrk thread takes every n-th line of the pool (n = number of threads), so no token is
-- sent twice. When a thread runs out of tokens it stops (wrk.thread:stop()) and records it.
-- wrk still divides by the full -d duration, so the rate of such a run is only a lower bound:
-- bench/run sizes the pools to outlast the run and flags any run that ran dry.
--
-- done() prints one machine-readable line, "BENCHJSON {...}", after wrk's own report:
-- requests, duration, latency percentiles (µs) and error counts. wrk's `errors.status` counts
-- responses with status >= 400 (none of the benchmarked endpoints answers 1xx or 3xx, so it is
-- the non-2xx count).

local scenario = os.getenv("BENCH_SCENARIO") or "verify"
local threads = {}
local counter = 0

function setup(thread)
   thread:set("thread_index", counter)
   table.insert(threads, thread)
   counter = counter + 1
end

local static_req = nil
local pool = {}
local next_index = 1
exhausted = 0
used = 0

local function json_headers()
   return { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }
end

function init(args)
   if scenario == "verify" then
      local body = '{"token": "' .. assert(os.getenv("BENCH_ACCESS"), "BENCH_ACCESS") .. '"}'
      static_req = wrk.format("POST", "/api/token/verify/", json_headers(), body)
   elseif scenario == "me" then
      static_req = wrk.format("GET", "/api/me/", {
         ["Authorization"] = "Bearer " .. assert(os.getenv("BENCH_ACCESS"), "BENCH_ACCESS"),
         ["Accept"] = "application/json",
      })
   elseif scenario == "authjs_session" then
      static_req = wrk.format("GET", "/api/authjs/session", {
         ["Cookie"] = assert(os.getenv("BENCH_COOKIE"), "BENCH_COOKIE"),
         ["Accept"] = "application/json",
      })
   elseif scenario == "login" then
      static_req = wrk.format("POST", "/api/token/", json_headers(),
         assert(os.getenv("BENCH_LOGIN"), "BENCH_LOGIN"))
   elseif scenario == "refresh" then
      local path = assert(os.getenv("BENCH_POOL"), "BENCH_POOL")
      local f = assert(io.open(path, "r"))
      local n, k = 0, 0
      local me_, count = thread_index or 0, tonumber(os.getenv("BENCH_THREADS") or "1")
      for line in f:lines() do
         if n % count == me_ and #line > 0 then
            k = k + 1
            pool[k] = line
         end
         n = n + 1
      end
      f:close()
   else
      error("unknown BENCH_SCENARIO " .. scenario)
   end
end

function request()
   if static_req then
      return static_req
   end
   local token = pool[next_index]
   if token == nil then
      -- Out of single-use tokens: stop this thread. wrk still wants a request string; the
      -- connection is abandoned with the thread, so this one is never counted.
      exhausted = 1
      wrk.thread:stop()
      return wrk.format("GET", "/healthz")
   end
   pool[next_index] = nil
   next_index = next_index + 1
   used = used + 1
   return wrk.format("POST", "/api/token/refresh/", json_headers(), '{"refresh": "' .. token .. '"}')
end

function done(summary, latency, requests)
   local ex, u = 0, 0
   for _, t in ipairs(threads) do
      ex = ex + (t:get("exhausted") or 0)
      u = u + (t:get("used") or 0)
   end
   local e = summary.errors
   io.write(string.format(
      'BENCHJSON {"scenario":"%s","requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
      '"status_errors":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
      '"timeouts":%d,"threads_exhausted":%d,"tokens_sent":%d}\n',
      scenario, summary.requests, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      latency.mean, e.status, e.connect, e.read, e.write, e.timeout, ex, u))
end
