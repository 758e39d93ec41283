-- wrk script: POST the certificate PDF named by $PDF to /api/v1/verify.
-- (run.sh prints the server's verdict counters afterwards: every answer should be VALID.)
local path = os.getenv("PDF") or "certificate.pdf"
local file = assert(io.open(path, "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/pdf"

function done(summary, latency, requests)
  io.write(string.format("p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms; non-2xx or errors: %d\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout))
end
