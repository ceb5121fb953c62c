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
for mode in "" --locals --greenlets; do
  for _ in $(seq 15); do
    "$pystack" --cpu-window 0 --json $mode "$victim" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stopped_ms"])'
  done > "$work/stops${mode}.txt"
done
python3 - "$work" <<'PY'
import json, statistics, sys
work = sys.argv[1]
r = {x["command"]: x["mean"] for x in json.load(open(work + "/times.json"))["results"]}
for name, mode in (("stacks", ""), ("locals", "--locals"), ("greenlets", "--greenlets")):
    stops = [float(l) for l in open(f"{work}/stops{mode}.txt")]
    print(f"{name:<10} wall {r[name]*1e3:7.1f} ms ({r[name]/r['stacks']:4.2f}x)   "
          f"stopped median {statistics.median(stops):6.2f} ms, max {max(stops):6.2f} ms")
PY
state=$(awk '/^State:/ {print $2}' /proc/$victim/status)
[[ $state != t && $state != T ]] || { echo "victim left stopped ($state)" >&2; exit 1; }
