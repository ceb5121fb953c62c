# Sourced by the side-by-side scripts that time an example against gdb on a
# Python victim: `side_by_side BUILD_DIR EXAMPLE TOOL...` sets `build`,
# `here` (the checkout), `example` (its path), `python` (Debian's
# python3.11), `work` (a scratch directory) and `victim` (for the caller to
# set; killed with `work` removed on exit), after checking that the example
# is built and that the interpreter and each TOOL are installed.
# With TRIAGE_BENCH_LAB=python3.14 (or python3.15), the victim is the
# interpreter lab's (tests/lab): `python_command` runs it in the lab root
# and `gdb_words` are the words gdb needs before `-p PID` to read it from
# outside (the root as sysroot, its debug files and py-bt extension).
# Without it, `python_command` is ($python) and `gdb_words` is empty.
# `stop_costs NAME=FLAGS...` then prints, for a triage-pystack `example`,
# each mode's mean wall time from the hyperfine runs in $work/times.json
# (named NAME) and the median and max of the target's stop over 15 more
# runs with FLAGS, and fails if the victim was left stopped.
side_by_side() {
  build=$1
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  example=$build/examples/$2
  shift 2
  python=/usr/bin/python3.11
  [[ -x $example ]] || { echo "build $(basename "$example") first ($example)" >&2; exit 2; }
  [[ -x $python ]] || { echo "needs Debian's $python (and python3.11-dbg for gdb's py-bt)" >&2; exit 2; }
  python_command=("$python")
  gdb_words=()
  if [[ -n ${TRIAGE_BENCH_LAB:-} ]]; then
    local root=${TRIAGE_LAB_DIR:-/var/cache/triage-lab}/root
    local gdb_script=$root/usr/share/gdb/auto-load/usr/bin/$TRIAGE_BENCH_LAB-gdb.py
    [[ -x $root/usr/bin/$TRIAGE_BENCH_LAB && -f $gdb_script ]] ||
      { echo "no $TRIAGE_BENCH_LAB with its gdb extension in the lab ($root): run tests/lab/build-root" >&2; exit 2; }
    python_command=("$here/tests/lab/run-in-root" "$root" --share /tmp --share "$here" -- "/usr/bin/$TRIAGE_BENCH_LAB")
    gdb_words=(-iex "'set sysroot $root'" -iex "'set debug-file-directory $root/usr/lib/debug'"
               -iex "'set auto-load safe-path /'" -iex "'source $gdb_script'" "$root/usr/bin/$TRIAGE_BENCH_LAB")
  fi
  for tool in "$@"; do command -v "$tool" >/dev/null || { echo "needs $*" >&2; exit 2; }; done
  work=$(mktemp -d)
  victim=
  trap '[[ -n $victim ]] && { kill -9 "$victim"; wait "$victim" || true; } 2>/dev/null; rm -rf "$work"' EXIT
}

stop_costs() {  # NAME=FLAGS...: the first is the baseline of the wall-time ratios
  local pair
  for pair in "$@"; do
    for _ in $(seq 15); do
      # shellcheck disable=SC2086  # FLAGS are words
      "$example" --cpu-window 0 --json ${pair#*=} "$victim" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stopped_ms"])'
    done > "$work/stops-${pair%%=*}.txt"
  done
  python3 - "$work" "$@" <<'PY'
import json, statistics, sys
work, names = sys.argv[1], [a.split("=", 1)[0] for a in sys.argv[2:]]
r = {x["command"]: x["mean"] for x in json.load(open(work + "/times.json"))["results"]}
for name in names:
    stops = [float(l) for l in open(f"{work}/stops-{name}.txt")]
    print(f"{name:<10} wall {r[name]*1e3:7.1f} ms ({r[name]/r[names[0]]:4.2f}x)   "
          f"stopped median {statistics.median(stops):6.2f} ms, max {max(stops):6.2f} ms")
PY
  local state
  state=$(awk '/^State:/ {print $2}' "/proc/$victim/status")
  [[ $state != t && $state != T ]] || { echo "victim left stopped ($state)" >&2; exit 1; }
}
