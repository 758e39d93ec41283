#!/bin/sh
# Load figures for `verifier serve` (issue 5): verifications per second and latency with a
# real certificate PDF on loopback, then peak memory under 100 concurrent 10 MB uploads.
#
#   cargo build --release -p ccr-issuer -p ccr-verifier --bins
#   verifier/benches/load/run.sh            # needs wrk (apt-get install wrk) and python3
#
# Environment: THREADS (verifier worker threads, default 2), CONNECTIONS (default 8),
# DURATION (default 20s), ISSUER_PORT / VERIFIER_PORT (default 28080 / 28081),
# CPUS (taskset list for the verifier, default unset), UPLOADS (default 100),
# VERIFIER_ARGS (more `verifier serve` options, e.g. "--max-concurrent 16").
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
bin="$root/target/release"
threads=${THREADS:-2}
connections=${CONNECTIONS:-8}
duration=${DURATION:-20s}
iport=${ISSUER_PORT:-28080}
vport=${VERIFIER_PORT:-28081}
uploads=${UPLOADS:-100}
work=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT INT TERM

"$bin/issuer" init --home "$work/h" --public-url "http://127.0.0.1:$iport" >/dev/null 2>&1
"$bin/issuer" issue --home "$work/h" --request "$root/fixtures/requests/chan-tai-man.json" \
  --out "$work/c.pdf" >/dev/null
"$bin/issuer" export-trust --home "$work/h" --out "$work/t" >/dev/null
"$bin/issuer" serve --home "$work/h" --listen "127.0.0.1:$iport" >"$work/issuer.log" 2>&1 &
pids="$pids $!"
for _ in $(seq 50); do
  curl -fs "http://127.0.0.1:$iport/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
pin=""
[ -n "${CPUS:-}" ] && pin="taskset -c $CPUS"
$pin "$bin/verifier" serve --trust "$work/t/root.pem" --issuer "http://127.0.0.1:$iport" \
  --listen "127.0.0.1:$vport" --threads "$threads" ${VERIFIER_ARGS:-} >"$work/verifier.log" 2>&1 &
vpid=$!
pids="$pids $vpid"
for _ in $(seq 50); do
  curl -fs "http://127.0.0.1:$vport/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
echo "PDF: $(wc -c <"$work/c.pdf") bytes; verifier threads: $threads; CPUs: $(nproc)"
curl -fs -X POST --data-binary @"$work/c.pdf" -H 'Content-Type: application/pdf' \
  "http://127.0.0.1:$vport/api/v1/verify" | grep -o '"verdict":"[A-Z_]*"'

# Warm-up (status list fetched, chain cache filled), then the measured run.
PDF="$work/c.pdf" wrk -t1 -c4 -d3s -s "$here/post-pdf.lua" "http://127.0.0.1:$vport/api/v1/verify" >/dev/null
# wrk gets one thread: on a 2-CPU machine it shares the CPUs with the verifier, so the
# server's own CPU time per request is printed too (2 CPUs / that = the rate on 2 cores).
cpu() { awk '{print $14 + $15}' "/proc/$vpid/stat"; }
t0=$(cpu)
PDF="$work/c.pdf" wrk -t1 -c"$connections" -d"$duration" --latency -s "$here/post-pdf.lua" \
  "http://127.0.0.1:$vport/api/v1/verify" | tee "$work/wrk.out"
t1=$(cpu)
requests=$(awk '/requests in/ {print $1}' "$work/wrk.out")
ticks=$(getconf CLK_TCK)
awk -v d="$((t1 - t0))" -v n="$requests" -v hz="$ticks" 'BEGIN {
  us = d / hz * 1e6 / n
  printf "verifier CPU: %.0f us per verification => %.0f verifications/s on 2 cores\n", us, 2e6 / us
}'
grep -E '^ccr_verifier_verifications_total|_count ' <<EOF2 || true
$(curl -fs "http://127.0.0.1:$vport/metrics")
EOF2

echo "--- $uploads concurrent 10 MB uploads (${VERIFIER_ARGS:-defaults: --max-body-bytes 10 MiB, --max-concurrent 64})"
python3 "$here/uploads.py" "$vport" "$vpid" "$uploads" 10000000
