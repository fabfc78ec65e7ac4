-- wrk's done(): one JSON line with what the benchmark reads.
return function(summary, latency, requests)
  io.write(string.format(
    '{"requests":%d,"seconds":%.6f,"non_2xx":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
