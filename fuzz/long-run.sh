#!/usr/bin/env bash
# Long fuzzing run (issue 15): each target until it has used CPU_MINUTES of CPU time (user +
# system, read from /proc, so a busy machine stretches the wall time, not the budget), JOBS
# targets at a time, at low priority. Prints libFuzzer's final stats per target into
# $OUT/<target>.log and a summary table on stdout. Uses the optimised build:
#   RUSTC_BOOTSTRAP=1 cargo fuzz build -s none -a
# Usage: fuzz/long-run.sh [target…]   (default: every target)
set -uo pipefail
cd "$(dirname "$0")"
CPU_MINUTES=${CPU_MINUTES:-30}
JOBS=${JOBS:-2}
OUT=${OUT:-long-run}
TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
BIN=target/$TRIPLE/release
mkdir -p "$OUT"
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=($(ls fuzz_targets | sed 's/\.rs$//'))
budget_ticks=$((CPU_MINUTES * 60 * $(getconf CLK_TCK)))

run_one() {
  local target=$1
  mkdir -p "corpus/$target" "artifacts/$target"
  nice -n 19 "$BIN/$target" -print_final_stats=1 -artifact_prefix="artifacts/$target/" "corpus/$target" "seeds/$target" \
    >"$OUT/$target.log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 5
    # fields 14 and 15 of /proc/PID/stat: utime and stime in clock ticks
    local ticks
    ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null) || break
    if [ "${ticks:-0}" -ge "$budget_ticks" ]; then
      kill -INT "$pid"
      break
    fi
  done
  wait "$pid"
  echo "$target exit $? cpu_ticks ${ticks:-?}" >>"$OUT/$target.log"
}

running=0
for target in "${targets[@]}"; do
  run_one "$target" &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then
    wait -n
    running=$((running - 1))
  fi
done
wait

printf '| target | CPU min | executions | cov / ft | corpus | crashes |\n|---|---:|---:|---:|---:|---:|\n'
for target in "${targets[@]}"; do
  log="$OUT/$target.log"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\).*/\1 \/ \2/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
  ticks=$(sed -n 's/.* cpu_ticks \([0-9]*\)$/\1/p' "$log" | tail -1)
  crashes=$(ls artifacts/"$target"/crash-* 2>/dev/null | wc -l)
  printf '| `%s` | %s | %s | %s | %s | %s |\n' "$target" \
    "$(awk -v t="${ticks:-0}" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.1f", t/hz/60}')" \
    "${execs:-?}" "${cov:-?}" "${corp:-?}" "$crashes"
done
