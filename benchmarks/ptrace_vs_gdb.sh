#!/usr/bin/env bash
# Stop-and-release of every thread of a 26-thread and a 1,000-thread process:
# triage's ptrace::session (bench_ptrace_stop_release --attach-once) against
# `gdb -p PID -batch` (attach, stop all threads, detach), timed with
# hyperfine in the same run, on the same victim; prints the ratio of mean
# wall times, and the target pause triage measured itself.
#   usage: benchmarks/ptrace_vs_gdb.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
bench=$build/benchmarks/bench_ptrace_stop_release
[[ -x $bench ]] || { echo "build bench_ptrace_stop_release first ($bench)" >&2; exit 2; }
command -v hyperfine >/dev/null && command -v gdb >/dev/null || { echo "needs hyperfine and gdb" >&2; exit 2; }
work=$(mktemp -d)
victim=
cleanup() { [[ -n $victim ]] && { kill -9 "$victim"; wait "$victim"; } 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

for threads in 26 1000; do
  "$bench" --victim "$threads" > "$work/ready" &
  victim=$!
  for _ in $(seq 300); do grep -q ready "$work/ready" 2>/dev/null && break; sleep 0.1; done
  runs=$([[ $threads -gt 100 ]] && echo 5 || echo 20)
  hyperfine -N --warmup 2 --runs "$runs" --export-json "$work/$threads.json" \
    -n triage "$bench --attach-once $victim" \
    -n gdb "gdb -nx -batch -p $victim" > "$work/$threads.txt"
  pauses=$(for _ in $(seq 20); do "$bench" --attach-once "$victim"; done | awk '{s+=$5; if ($5>m) m=$5} END {printf "mean %.0f us, max %.0f us", s/NR, m}')
  python3 - "$work/$threads.json" "$threads" "$pauses" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
t, g = r["triage"]["mean"], r["gdb"]["mean"]
print(f"{sys.argv[2]:>5} threads: triage {t*1e3:8.2f} ms  gdb {g*1e3:9.2f} ms  gdb/triage = {g/t:6.1f}x"
      f"   (triage's target pause: {sys.argv[3]})")
PY
  state=$(awk '/^State:/ {print $2}' /proc/$victim/status)
  [[ $state != t && $state != T ]] || { echo "victim left stopped ($state)" >&2; exit 1; }
  kill -9 "$victim"; wait "$victim" 2>/dev/null || true; victim=
done
