#!/usr/bin/env bash
# The whole investigation of the 26-thread demo service (examples/demo/
# stuck_service.py on Debian's /usr/bin/python3.11): `triage-hotloop PID`
# (hot threads over a 250 ms CPU window, their waits in the kernel, Python
# stacks in one stop, loop samples, files changed on disk, verdict) against
# what a user would otherwise run for the stacks alone: `gdb -p PID -batch
# -ex "thread apply all py-bt"` and `eu-stack -p PID` (native only), timed
# with hyperfine in the same run on the same victim; prints the ratios of
# mean wall times and triage-hotloop's own stop time (median of 10 runs).
# triage-hotloop's wall time is bounded below by its CPU window: the line
# with --window 10 shows what the window costs.
#   usage: benchmarks/hotloop_vs_gdb.sh [BUILD_DIR]
set -euo pipefail
source "$(dirname "$0")/side_by_side.sh"
side_by_side "${1:-build}" triage-hotloop hyperfine gdb eu-stack
hotloop=$example

"$python" "$here/examples/demo/stuck_service.py" --ready-file "$work/ready" &
victim=$!
for _ in $(seq 300); do [[ -s $work/ready ]] && break; sleep 0.1; done
[[ -s $work/ready ]] || { echo "the demo service did not start" >&2; exit 1; }

"$hotloop" "$victim" > "$work/hotloop.txt"
grep -q 'get_gametype_anchor_by_sn' "$work/hotloop.txt" || { echo "triage-hotloop did not name the spinning function" >&2; exit 1; }

hyperfine -N --warmup 1 --runs 10 --export-json "$work/times.json" \
  -n triage-hotloop "$hotloop $victim" \
  -n triage-hotloop-window-10 "$hotloop --window 10 $victim" \
  -n gdb "gdb -nx -batch -p $victim -ex 'thread apply all py-bt'" \
  -n eu-stack "eu-stack -p $victim" > "$work/hyperfine.txt"
for _ in $(seq 10); do
  "$hotloop" --json "$victim" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["stopped_ms"], d["stops"])'
done > "$work/stops.txt"
python3 - "$work/times.json" "$work/stops.txt" <<'PY'
import json, statistics, sys
r = {x["command"]: x["mean"] for x in json.load(open(sys.argv[1]))["results"]}
rows = [l.split() for l in open(sys.argv[2])]
for name in ("gdb", "eu-stack", "triage-hotloop", "triage-hotloop-window-10"):
    print(f"{name:<26} {r[name]*1e3:9.1f} ms")
for other in ("gdb", "eu-stack"):
    print(f"{other}/triage-hotloop = {r[other]/r['triage-hotloop']:5.1f}x   "
          f"{other}/triage-hotloop --window 10 = {r[other]/r['triage-hotloop-window-10']:5.1f}x")
print(f"target stopped by triage-hotloop: median {statistics.median(float(s) for s, _ in rows):.2f} ms, "
      f"max {max(float(s) for s, _ in rows):.2f} ms; stops per run: {sorted(set(n for _, n in rows))}")
PY
state=$(awk '/^State:/ {print $2}' /proc/$victim/status)
[[ $state != t && $state != T ]] || { echo "victim left stopped ($state)" >&2; exit 1; }
