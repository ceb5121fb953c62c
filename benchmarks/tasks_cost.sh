#!/usr/bin/env bash
# What --tasks costs triage-pystack, on an asyncio service
# (tests/victims/py_asyncio.py: N tasks parked in sleep() and on an Event,
# gathers, a task awaiting a task, a second loop on another thread, one task
# spinning): wall time (hyperfine, mean of 15) and how long the target is
# stopped (median and max of 15 runs) for the plain stacks and --tasks, in
# one run. On Debian's python3.11 the tasks come from asyncio's registry;
# with TRIAGE_BENCH_LAB=python3.14 (or python3.15) from the GC's lists, and
# CPython's own `python -m asyncio ps PID` (3.14+ only, live only) runs
# beside it, in the victim's root.
#   usage: [TRIAGE_BENCH_LAB=python3.14] benchmarks/tasks_cost.sh [BUILD_DIR] [N]   (N parked tasks, 1000 by default)
set -euo pipefail
source "$(dirname "$0")/side_by_side.sh"
side_by_side "${1:-build}" triage-pystack hyperfine
count=${2:-1000}
pystack=$example

"${python_command[@]}" "$here/tests/victims/py_asyncio.py" "$work/ready" "$count" &
victim=$!
for _ in $(seq 300); do [[ -s $work/ready ]] && break; sleep 0.1; done
[[ -s $work/ready ]] || { echo "the victim did not start" >&2; exit 1; }

"$pystack" --tasks "$victim" > "$work/tasks.txt"
grep -m1 '^Asyncio tasks: ' "$work/tasks.txt"
peer=()
if [[ -n ${TRIAGE_BENCH_LAB:-} ]]; then
  peer=(-n "asyncio ps" "nsenter -t $victim -m -r /usr/bin/$TRIAGE_BENCH_LAB -m asyncio ps $victim")
fi
hyperfine -N --warmup 2 --runs 15 --export-json "$work/times.json" \
  -n stacks "$pystack --cpu-window 0 $victim" \
  -n tasks "$pystack --cpu-window 0 --tasks $victim" "${peer[@]}" > "$work/hyperfine.txt"
stop_costs stacks= tasks=--tasks
if [[ -n ${TRIAGE_BENCH_LAB:-} ]]; then
  python3 - "$work/times.json" <<'PY'
import json, sys
r = {x["command"]: x["mean"] for x in json.load(open(sys.argv[1]))["results"]}
print(f"asyncio ps wall {r['asyncio ps']*1e3:7.1f} ms: triage-pystack --tasks is {r['asyncio ps']/r['tasks']:.1f}x faster")
PY
fi
