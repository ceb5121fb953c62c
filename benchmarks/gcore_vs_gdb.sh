#!/usr/bin/env bash
# gcore_vs_gdb.sh — triage-gcore against gdb's gcore, on the same process, in
# the same run: a 26-thread C victim (tests/victims/core_big.c: 24 threads
# parked in nanosleep, one spinning, main in pause) with MIB MiB resident
# (default 1024) of non-zero anonymous memory. A C victim, not Python: the
# dump's cost is the resident memory and the thread count, which this one
# has; the interpreter adds nothing a core writer sees.
#
#   benchmarks/gcore_vs_gdb.sh [BUILD_DIR]      (env: MIB=1024 RUNS=5 WORK=/var/tmp)
#
# Prints hyperfine's table, then the figures the issue asks for:
#   wall-time ratio gcore / triage-gcore (goal >= 5x);
#   disk blocks allocated (st_blocks*512) / memory that had to be dumped
#   (triage-gcore's bytes_to_copy: resident pages of the mappings the
#   coredump_filter selects, plus headers and notes) (goal <= 1.1x);
#   target stop time of triage-gcore (from its report; goal < 1.5 s), and
#   gcore's wall time, during which gdb holds the process stopped.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
mib=${MIB:-1024}
runs=${RUNS:-5}
victim=$build/tests/victims/core_big
tool=$build/examples/triage-gcore
for need in "$victim" "$tool"; do
  [[ -x $need ]] || { echo "missing $need: build the victims and examples first" >&2; exit 2; }
done
for cmd in hyperfine gcore python3; do
  command -v "$cmd" >/dev/null || { echo "missing $cmd" >&2; exit 2; }
done

work=$(mktemp -d "${WORK:-/var/tmp}/gcore-bench.XXXXXX")
vpid=
cleanup() {
  if [[ -n $vpid ]]; then kill -KILL "$vpid" 2>/dev/null || true; wait "$vpid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$victim" "$mib" >"$work/victim.out" &
vpid=$!
for _ in $(seq 600); do grep -q '^ready' "$work/victim.out" && break; sleep 0.1; done
grep -q '^ready' "$work/victim.out" || { echo "victim did not start" >&2; exit 1; }
echo "victim: pid $vpid, $(ls /proc/$vpid/task | wc -l) threads, $(awk '/VmRSS/ {print $2, $3}' /proc/$vpid/status) resident"

hyperfine --warmup 1 --runs "$runs" --export-json "$work/times.json" \
  --prepare "rm -f '$work/ours.core' '$work/gdb.$vpid'" \
  -n triage-gcore "$tool $vpid -o $work/ours.core" \
  -n gcore "gcore -o $work/gdb $vpid"

# One more of each, kept, for the file figures and our stop time.
rm -f "$work/ours.core" "$work/gdb.$vpid"
"$tool" "$vpid" -o "$work/ours.core" --json >"$work/ours.json"
gcore -o "$work/gdb" "$vpid" >/dev/null 2>&1
state=$(awk '/^State/ {print $2}' "/proc/$vpid/status")

python3 - "$work" "$vpid" "$state" <<'PY'
import json, os, sys
work, pid, state = sys.argv[1], sys.argv[2], sys.argv[3]
times = {r["command"]: r for r in json.load(open(f"{work}/times.json"))["results"]}
ours = json.load(open(f"{work}/ours.json"))
ours_st, gdb_st = os.stat(f"{work}/ours.core"), os.stat(f"{work}/gdb.{pid}")
t_ours, t_gdb = times["triage-gcore"]["mean"], times["gcore"]["mean"]
needed = ours["bytes_to_copy"]
mib = lambda n: f"{n / 2**20:.0f} MiB"
print()
print(f"wall time        triage-gcore {t_ours:.3f} s, gcore {t_gdb:.3f} s: {t_gdb / t_ours:.1f}x faster (goal >= 5x)")
print(f"disk allocated   triage-gcore {mib(ours_st.st_blocks * 512)} (file {mib(ours_st.st_size)}), "
      f"gcore {mib(gdb_st.st_blocks * 512)} (file {mib(gdb_st.st_size)})")
print(f"                 memory to dump {mib(needed)}: allocated / needed = {ours_st.st_blocks * 512 / needed:.3f}x (goal <= 1.1x)")
print(f"target stopped   triage-gcore {ours['stopped_seconds']:.3f} s (goal < 1.5 s); gcore holds it for its whole run, ~{t_gdb:.2f} s")
print(f"victim after     State {state} (must not be t/T)")
PY
