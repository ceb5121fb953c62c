#!/usr/bin/env bash
# gcore_vs_gdb.sh — triage-gcore against gdb's gcore, on the same process, in
# the same run: the 26-thread stuck Python service of the incident
# (tests/victims/py_stuck_service.py under the system python3: one thread
# spinning, 24 parked on a lock, main in join) holding MIB MiB (default
# 1024) of non-zero heap. triage-gcore runs twice: with its default
# strategy (copy to memory while the service is stopped, write after
# releasing it) and with --copy file (write while stopped, no extra memory).
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
victim=$here/../tests/victims/py_stuck_service.py
tool=$build/examples/triage-gcore
for need in "$tool"; do
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

python3 "$victim" "$work/ready" "$mib" &
vpid=$!
for _ in $(seq 600); do [[ -e $work/ready ]] && break; sleep 0.1; done
[[ -e $work/ready ]] || { echo "victim did not start" >&2; exit 1; }
echo "victim: pid $vpid, $(ls /proc/$vpid/task | wc -l) threads, $(awk '/VmRSS/ {print $2, $3}' /proc/$vpid/status) resident"

hyperfine --warmup 1 --runs "$runs" --export-json "$work/times.json" \
  --prepare "rm -f '$work/ours.core' '$work/gdb.$vpid'; sync" \
  -n triage-gcore "$tool $vpid -o $work/ours.core" \
  -n "triage-gcore --copy file" "$tool $vpid -o $work/ours.core --copy file" \
  -n gcore "gcore -o $work/gdb $vpid"

# One more of each, kept, for the file figures and our stop time.
rm -f "$work/ours.core" "$work/gdb.$vpid"
"$tool" "$vpid" -o "$work/ours.core" --copy file --json >"$work/file.json"
rm -f "$work/ours.core"; sync
"$tool" "$vpid" -o "$work/ours.core" --json >"$work/ours.json"
gcore -o "$work/gdb" "$vpid" >/dev/null 2>&1
state=$(awk '/^State/ {print $2}' "/proc/$vpid/status")

python3 - "$work" "$vpid" "$state" <<'PY'
import json, os, sys
work, pid, state = sys.argv[1], sys.argv[2], sys.argv[3]
times = {r["command"]: r for r in json.load(open(f"{work}/times.json"))["results"]}
ours = json.load(open(f"{work}/ours.json"))
to_file = json.load(open(f"{work}/file.json"))
ours_st, gdb_st = os.stat(f"{work}/ours.core"), os.stat(f"{work}/gdb.{pid}")
t_ours, t_gdb = times["triage-gcore"]["mean"], times["gcore"]["mean"]
needed = ours["bytes_to_copy"]
mib = lambda n: f"{n / 2**20:.0f} MiB"
print()
print(f"wall time        triage-gcore {t_ours:.3f} s, gcore {t_gdb:.3f} s: {t_gdb / t_ours:.1f}x faster (goal >= 5x)")
print(f"disk allocated   triage-gcore {mib(ours_st.st_blocks * 512)} (file {mib(ours_st.st_size)}), "
      f"gcore {mib(gdb_st.st_blocks * 512)} (file {mib(gdb_st.st_size)})")
print(f"                 memory to dump {mib(needed)}: allocated / needed = {ours_st.st_blocks * 512 / needed:.3f}x (goal <= 1.1x)")
t_file = times["triage-gcore --copy file"]["mean"]
print(f"  --copy file    triage-gcore {t_file:.3f} s: {t_gdb / t_file:.1f}x faster")
print(f"target stopped   triage-gcore {ours['stopped_seconds']:.3f} s (copied to memory: {ours['copied_to_memory']}; goal < 1.5 s); "
      f"--copy file {to_file['stopped_seconds']:.3f} s; gcore holds it for its whole run, ~{t_gdb:.2f} s")
print(f"victim after     State {state} (must not be t/T)")
PY
