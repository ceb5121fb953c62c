#!/usr/bin/env bash
# Per-thread CPU sweep of a 1,000-thread process: our reader against ps and
# top, in the same hyperfine run, on the same victim. Prints the ratios.
#
#   benchmarks/top_sweep.sh BUILD_DIR [THREADS]
#
# Compared (each prints tid, CPU%, state and wait channel of every thread):
#   sweep       BUILD_DIR/benchmarks/bench_procfs_sweep PID  (one sweep:
#               stat and wchan per thread, the facts ps prints)
#   sweep+syscall  the same, plus each thread's syscall (what ps cannot say)
#   triage-top  BUILD_DIR/examples/triage-top PID --interval 0 --json  (two
#               sweeps for CPU%, then syscall+wchan, sorting, JSON)
#   ps          ps -L -o tid,pcpu,stat,wchan -p PID
#   top         top -H -b -n 1 -p PID
# Goal: sweep at least 5x faster than ps (wall time). On a shared machine
# wall time moves with the load; the CPU time (user+system, from hyperfine)
# is printed beside it and is the steadier ratio. The victim is
# tests/victims/procfs_many (THREADS threads blocked in futex, default 1000);
# it is killed on exit, whatever happens.
set -euo pipefail

build=${1:?usage: top_sweep.sh BUILD_DIR [THREADS]}
threads=${2:-1000}
victim_bin="$build/tests/victims/procfs_many"
sweep_bin="$build/benchmarks/bench_procfs_sweep"
top_bin="$build/examples/triage-top"
for tool in "$victim_bin" "$sweep_bin" "$top_bin"; do
    [[ -x $tool ]] || { echo "top_sweep.sh: $tool is not built" >&2; exit 2; }
done
for tool in hyperfine ps top python3; do
    command -v "$tool" >/dev/null || { echo "top_sweep.sh: $tool is not installed" >&2; exit 2; }
done

work=$(mktemp -d)
victim=
cleanup() {
    if [[ -n $victim ]]; then kill -KILL "$victim" 2>/dev/null || true; wait "$victim" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$victim_bin" "$threads" >"$work/victim.out" &
victim=$!
for _ in $(seq 600); do
    grep -q '^ready' "$work/victim.out" 2>/dev/null && break
    sleep 0.05
done
grep -q "^ready $threads\$" "$work/victim.out" || { echo "top_sweep.sh: victim did not start $threads threads" >&2; exit 1; }
echo "victim pid $victim with $(ls /proc/$victim/task | wc -l) threads"
# ps reads stat, status and wchan of every thread on the machine even with
# -p, so its time (and the ratio) grows with the other threads running.
echo "threads on the machine: $(find /proc/[0-9]*/task -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)"

hyperfine -N --warmup 3 --min-runs 20 --style basic --export-json "$work/times.json" \
    -n sweep "$sweep_bin $victim" \
    -n sweep+syscall "$sweep_bin $victim --syscall" \
    -n triage-top "$top_bin $victim --interval 0 --json" \
    -n ps "ps -L -o tid,pcpu,stat,wchan -p $victim" \
    -n top "top -H -b -n 1 -p $victim"

python3 - "$work/times.json" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
mean = {name: r["mean"] for name, r in results.items()}
cpu = {name: r["user"] + r["system"] for name, r in results.items()}
print()
print("mean wall time per run (ms): " + ", ".join(f"{n} {mean[n]*1e3:.2f}" for n in mean))
print("mean CPU time (user+system) per run (ms): " + ", ".join(f"{n} {cpu[n]*1e3:.2f}" for n in cpu))
for ours in ("sweep", "sweep+syscall", "triage-top"):
    for theirs in ("ps", "top"):
        print(f"{ours} is {mean[theirs] / mean[ours]:.1f}x faster than {theirs} "
              f"(CPU time: {cpu[theirs] / cpu[ours]:.1f}x less)")
ratio = mean["ps"] / mean["sweep"]
print(f"goal (sweep >= 5x faster than ps): {'met' if ratio >= 5 else 'NOT met'} ({ratio:.1f}x; "
      f"CPU time {cpu['ps'] / cpu['sweep']:.1f}x less)")
PY

state=$(awk '/^State:/ {print $2}' "/proc/$victim/status")
echo "victim after the run: state $state"
[[ $state != T && $state != t ]]
