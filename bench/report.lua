-- wrk: print one machine-readable line at the end of a run (bench/runner.py reads it).
-- With "-- vary" after the URL, every request gets a URL of its own
-- ("&bench=<thread>-<n>", a parameter the apps ignore), so no answer can come
-- from a cache.

local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("id", threads)
end

init = function(args)
  if args[1] == "vary" then
    local n = 0
    local separator = string.find(wrk.path, "?", 1, true) and "&" or "?"
    request = function()
      n = n + 1
      return wrk.format(nil, wrk.path .. separator .. "bench=" .. id .. "-" .. n)
    end
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH {\"requests\": %d, \"duration_us\": %d, \"bytes\": %d, \"connect\": %d, \"read\": %d, " ..
    "\"write\": %d, \"timeout\": %d, \"status\": %d, \"p50\": %d, \"p95\": %d, \"p99\": %d, \"max\": %d}\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
