#!/usr/bin/env bash
# Native stacks of the 26-thread demo service (examples/demo/
# stuck_service.py on Debian's /usr/bin/python3.11, with python3.11-dbg):
# `triage-pystack --native PID` (Python stacks and every thread's C stack,
# merged, in one stop; unwound from a copy after the release) against
# `eu-stack -p PID` (C stacks only) and `gdb -p PID -batch -ex "thread apply
# all bt"` (C stacks only), timed with hyperfine in the same run on the same
# victim; prints the ratios of mean wall times and triage-pystack's stop
# time (median and max of 10 runs). triage-pystack --native runs twice:
# "cold" without the line-table cache (every run reads python3.11's and
# libc's line tables from their debug files, as a first run on a machine
# does), and "warm" with it (elf/line_cache.hpp: the tables the warm-up run
# saved). eu-stack -s (with file:line, as triage prints them) runs too.
#   usage: benchmarks/native_vs_eustack.sh [BUILD_DIR]
set -euo pipefail
source "$(dirname "$0")/side_by_side.sh"
side_by_side "${1:-build}" triage-pystack hyperfine gdb eu-stack
pystack=$example

"$python" "$here/examples/demo/stuck_service.py" --ready-file "$work/ready" &
victim=$!
for _ in $(seq 300); do [[ -s $work/ready ]] && break; sleep 0.1; done
[[ -s $work/ready ]] || { echo "the demo service did not start" >&2; exit 1; }

"$pystack" --native "$victim" > "$work/native.txt"
grep -q '\[C\] .*in libc.so.6' "$work/native.txt" || { echo "triage-pystack --native showed no C frames" >&2; exit 1; }

export TRIAGE_CACHE_DIR=$work/cache
hyperfine -N --warmup 1 --runs 10 --export-json "$work/times.json" \
  -n triage-pystack-native-cold "env TRIAGE_CACHE_DIR= $pystack --native --cpu-window 0 $victim" \
  -n triage-pystack-native "$pystack --native --cpu-window 0 $victim" \
  -n triage-pystack "$pystack --cpu-window 0 $victim" \
  -n eu-stack "eu-stack -p $victim" \
  -n eu-stack-s "eu-stack -s -p $victim" \
  -n gdb "gdb -nx -batch -p $victim -ex 'thread apply all bt'" > "$work/hyperfine.txt"
for _ in $(seq 10); do
  "$pystack" --native --cpu-window 0 --json "$victim" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stopped_ms"])'
done > "$work/stops.txt"
python3 - "$work/times.json" "$work/stops.txt" <<'PY'
import json, statistics, sys
r = {x["command"]: x["mean"] for x in json.load(open(sys.argv[1]))["results"]}
stops = [float(l) for l in open(sys.argv[2])]
for name in ("gdb", "eu-stack", "eu-stack-s", "triage-pystack", "triage-pystack-native-cold", "triage-pystack-native"):
    print(f"{name:<28} {r[name]*1e3:9.1f} ms")
for other in ("gdb", "eu-stack", "eu-stack-s"):
    for ours, label in (("triage-pystack-native", "warm"), ("triage-pystack-native-cold", "cold")):
        print(f"{other}/triage-pystack --native ({label}) = {r[other]/r[ours]:5.1f}x")
print(f"target stopped by triage-pystack --native: median {statistics.median(stops):.2f} ms, max {max(stops):.2f} ms")
PY
state=$(awk '/^State:/ {print $2}' /proc/$victim/status)
[[ $state != t && $state != T ]] || { echo "victim left stopped ($state)" >&2; exit 1; }
