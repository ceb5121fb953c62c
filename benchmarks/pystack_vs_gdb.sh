#!/usr/bin/env bash
# Python stacks of a 26-thread stuck service (tests/victims/py_stuck_service.py
# on Debian's /usr/bin/python3.11): `triage-pystack PID` (blocking and
# --nonblocking, default 10 ms CPU window, and with --cpu-window 0) against
# `gdb -p PID -batch -ex "thread apply all py-bt"` (python3.11-dbg's
# libpython extension), whole process to whole process, timed with hyperfine
# in the same run on the same victim; prints the ratios of mean wall times
# and checks that gdb and triage name the same spinning line.
#   usage: benchmarks/pystack_vs_gdb.sh [BUILD_DIR]
#   on the interpreter lab's 3.14 (its python3.14-dbg gives gdb py-bt):
#          TRIAGE_BENCH_LAB=python3.14 benchmarks/pystack_vs_gdb.sh [BUILD_DIR]
set -euo pipefail
source "$(dirname "$0")/side_by_side.sh"
side_by_side "${1:-build}" triage-pystack hyperfine gdb
pystack=$example

"${python_command[@]}" "$here/tests/victims/py_stuck_service.py" "$work/ready" &
victim=$!
for _ in $(seq 300); do [[ -f $work/ready ]] && break; sleep 0.1; done
[[ -f $work/ready ]] || { echo "the stuck service did not start" >&2; exit 1; }

gdb_command="gdb -nx -batch ${gdb_words[*]} -p $victim -ex 'thread apply all py-bt'"
eval "$gdb_command" > "$work/gdb.txt" 2>&1
"$pystack" "$victim" > "$work/triage.txt"
grep -q 'find_anchor' "$work/gdb.txt" || { echo "gdb's py-bt did not show find_anchor:" >&2; tail "$work/gdb.txt" >&2; exit 1; }
grep -q 'find_anchor' "$work/triage.txt" || { echo "triage-pystack did not show find_anchor" >&2; exit 1; }

hyperfine -N --warmup 1 --runs 10 --export-json "$work/times.json" \
  -n triage "$pystack $victim" \
  -n triage-nonblocking "$pystack --nonblocking $victim" \
  -n triage-no-cpu "$pystack --cpu-window 0 $victim" \
  -n gdb "$gdb_command" > "$work/hyperfine.txt"
stopped=$("$pystack" --json "$victim" | python3 -c 'import json,sys; print("%.2f" % json.load(sys.stdin)["stopped_ms"])')
python3 - "$work/times.json" "$stopped" <<'PY'
import json, sys
r = {x["command"]: x["mean"] for x in json.load(open(sys.argv[1]))["results"]}
g = r["gdb"]
print(f"gdb py-bt (all threads)          {g*1e3:9.2f} ms")
for name in ("triage", "triage-nonblocking", "triage-no-cpu"):
    print(f"{name:<32} {r[name]*1e3:9.2f} ms   gdb/{name} = {g/r[name]:6.1f}x")
print(f"target stopped by triage-pystack (blocking): {sys.argv[2]} ms")
PY
state=$(awk '/^State:/ {print $2}' /proc/$victim/status)
[[ $state != t && $state != T ]] || { echo "victim left stopped ($state)" >&2; exit 1; }
