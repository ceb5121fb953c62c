#!/usr/bin/env bash
# What --greenlets and --locals cost triage-pystack, on an eventlet service
# (tests/victims/py_greenlets.py on Debian's /usr/bin/python3.11 with
# python3-eventlet: N green threads parked on an Event, in sleep() and on a
# Queue, one spinning): wall time (hyperfine, mean of 15) and how long the
# target is stopped (median and max of 15 runs) for the plain stacks,
# --locals and --greenlets, in one run. No other tool shows greenlets from
# outside (py-spy #499, pystack #60), so the plain stacks are the baseline.
#   usage: benchmarks/greenlets_cost.sh [BUILD_DIR] [N]   (N green threads, 1000 by default)
set -euo pipefail
source "$(dirname "$0")/side_by_side.sh"
side_by_side "${1:-build}" triage-pystack hyperfine
count=${2:-1000}
pystack=$example
"$python" -c "import eventlet" 2>/dev/null || { echo "needs python3-eventlet" >&2; exit 2; }

"$python" "$here/tests/victims/py_greenlets.py" "$work/ready" "$count" eventlet &
victim=$!
for _ in $(seq 300); do [[ -s $work/ready ]] && break; sleep 0.1; done
[[ -s $work/ready ]] || { echo "the victim did not start" >&2; exit 1; }

"$pystack" --greenlets "$victim" > "$work/greenlets.txt"
grep -m1 '^Greenlets: ' "$work/greenlets.txt"
hyperfine -N --warmup 2 --runs 15 --export-json "$work/times.json" \
  -n stacks "$pystack --cpu-window 0 $victim" \
  -n locals "$pystack --cpu-window 0 --locals $victim" \
  -n greenlets "$pystack --cpu-window 0 --greenlets $victim" > "$work/hyperfine.txt"
stop_costs stacks= locals=--locals greenlets=--greenlets
