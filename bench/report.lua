-- wrk: print one machine-readable line at the end of a run (bench/runner.py reads it).
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH {\"requests\": %d, \"duration_us\": %d, \"bytes\": %d, \"connect\": %d, \"read\": %d, " ..
    "\"write\": %d, \"timeout\": %d, \"status\": %d, \"p50\": %d, \"p95\": %d, \"p99\": %d, \"max\": %d}\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
