#!/usr/bin/env bash
# gcore_vs_gdb.sh — triage-gcore against gdb's gcore, side by side in one run,
# on the same process: the 26-thread stuck Python service of the incident
# (tests/victims/py_stuck_service.py under python3: one thread spinning, 24
# parked on a lock, main in join) holding MIB MiB of non-zero heap, for each
# MIB in SIZES. At each size, every tool below writes a core of the service
# RUNS times (round-robin, after WARMUP untimed rounds), each run on a fresh
# service (gcore leaves it ~1.2 GiB bigger: see run_tool); between runs, the
# core is removed and `sync` run, untimed:
#   gcore                          gdb's gcore
#   triage-gcore                   its default strategy (--snapshot auto: a fork
#                                  when the service's pages fit in the free
#                                  memory, else a copy in the stop)
#   triage-gcore --copy memory     stop, copy memory into ours, release, write
#   triage-gcore --copy file       write the file while the service is stopped
#   triage-gcore --snapshot fork   fork a copy-on-write copy in a stop of
#                                  milliseconds, write from it while it runs
#
#   benchmarks/gcore_vs_gdb.sh [BUILD_DIR]     (BUILD_DIR default: build)
#   env: SIZES="64 1024 4096" (MiB)  RUNS=5  WARMUP=1  WORK=/var/tmp
#        (WORK must hold one core of the largest size: gcore's is the
#        biggest, ~MIB + 1.2 GiB, ~5.3 GiB at 4096)
#
# Measures, per tool and size, median and spread (min–max) over the runs of:
#   wall  — the tool's run, timed here (triage-gcore with its default 100 ms
#           CPU sampling window included, as a user gets it);
#   pause — how long the service is held stopped: for triage-gcore,
#           stopped_seconds + cleanup_stopped_seconds of its --json report
#           (the second is --snapshot fork's short stop to reap its copy);
#           for gcore, its wall time (gdb holds the process stopped for its
#           whole run, so this is an upper bound: gdb's start-up is in it);
# and the ratio gcore wall / wall (of the medians) for each strategy; and,
# as the floor of a fork snapshot's pause, the kernel's fork() of a python3
# process holding as much memory, timed inside it. Then
# names the strategy with the shortest pause among those whose wall is at
# least 1.5x faster than gcore, and checks the goals:
#   --snapshot fork: pause <= 50 ms at every size (every run);
#   default strategy: wall >= 1.5x faster than gcore (medians).
# A goal missed is printed (MISSED, and in the summary at the end) but does
# not change the exit status. The service must stay alive and never be left
# stopped (State t/T): checked before and after every run; it is killed after
# each run and on any exit. Exit status 1 when a run failed, the service
# died or was left stopped, or triage-gcore was rebuilt during the runs; 2
# when a tool is missing. The machine should be otherwise idle: the load
# average is printed at the start and after each size.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
sizes=${SIZES:-64 1024 4096}
runs=${RUNS:-5}
warmup=${WARMUP:-1}
victim=$here/../tests/victims/py_stuck_service.py
tool=$build/examples/triage-gcore
[[ -x $tool ]] || { echo "missing $tool: build the examples first" >&2; exit 2; }
for cmd in gcore python3; do
  command -v "$cmd" >/dev/null || { echo "missing $cmd" >&2; exit 2; }
done
[[ $runs =~ ^[1-9][0-9]*$ && $warmup =~ ^[0-9]+$ ]] || { echo "RUNS must be >= 1, WARMUP >= 0" >&2; exit 2; }

work=$(mktemp -d "${WORK:-/var/tmp}/gcore-bench.XXXXXX")
vpid=
kill_victim() {
  if [[ -n $vpid ]]; then kill -KILL "$vpid" 2>/dev/null || true; wait "$vpid" 2>/dev/null || true; fi
  vpid=
}
cleanup() { kill_victim; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

names=("gcore" "triage-gcore" "triage-gcore --copy memory" "triage-gcore --copy file" "triage-gcore --snapshot fork")
opts=("" "" "--copy memory" "--copy file" "--snapshot fork")

now() { local t=$EPOCHREALTIME; echo "${t/,/.}"; }
vstate() { awk '/^State/ {print $2}' "/proc/$vpid/status" 2>/dev/null || echo gone; }
vrss() { awk '/^VmRSS/ {print $2}' "/proc/$vpid/status" 2>/dev/null || echo 0; }

# Starts a fresh service of $mib MiB and waits until it is parked.
start_victim() {
  rm -f "$work/ready"
  python3 "$victim" "$work/ready" "$mib" &
  vpid=$!
  for _ in $(seq 3000); do [[ -e $work/ready ]] && break; kill -0 "$vpid" 2>/dev/null || break; sleep 0.1; done
  [[ -e $work/ready ]] || { echo "victim of $mib MiB did not start" >&2; exit 1; }
}

# Checks the service is alive and running; records a problem otherwise.
check_victim() {  # WHEN
  local state
  state=$(vstate)
  if [[ $state == [tT] ]]; then sleep 0.2; state=$(vstate); fi
  case $state in
    gone|Z|X) echo "$1: service $vpid is dead (State $state)" | tee -a "$problems" >&2; return 1 ;;
    t|T)      echo "$1: service $vpid left stopped (State $state)" | tee -a "$problems" >&2; return 1 ;;
  esac
}

# One run of tool K on a fresh service, timed; appends a record to runs.tsv
# unless ROUND is "warmup". Fresh, because gcore changes the service: gdb
# reads the reserved (---p) part of each glibc malloc arena too, which makes
# the kernel fault in ~64 MiB of real memory per arena (~1.2 GiB here).
run_tool() {  # K ROUND
  local k=$1 round=$2 out=$work/run.json rc t0 t1 rss0 rss1 json=-
  start_victim
  rm -f "$work/core" "$work/gdb.$vpid" "$out"; sync
  rss0=$(vrss)
  check_victim "before ${names[k]} ($round)" || { kill_victim; return 0; }
  if ((k == 0)); then
    t0=$(now)
    if gcore -o "$work/gdb" "$vpid" >"$work/run.log" 2>&1; then rc=0; else rc=$?; fi
    t1=$(now)
    [[ $rc -ne 0 || -s $work/gdb.$vpid ]] || rc=99  # gcore can exit 0 without a core
  else
    t0=$(now)
    # shellcheck disable=SC2086  # opts[k] is split on purpose
    if "$tool" "$vpid" -o "$work/core" --json ${opts[k]} >"$out" 2>"$work/run.log"; then rc=0; else rc=$?; fi
    t1=$(now)
    [[ $rc -ne 0 || -s $out ]] || rc=98  # no JSON report
  fi
  rss1=$(vrss)
  check_victim "after ${names[k]} ($round)" || rc=97
  kill_victim
  rm -f "$work/core" "$work/gdb."*
  if [[ $rc -ne 0 ]]; then
    echo "${names[k]} ($round) at $mib MiB failed (status $rc): $(tail -n 3 "$work/run.log" | tr '\n' ' ')" | tee -a "$problems" >&2
  fi
  [[ $round == warmup ]] && return 0
  if ((k > 0)) && [[ -s $out ]]; then json=$work/json/$mib.$k.$round; mv "$out" "$json"; fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mib" "$k" "$round" "$t0" "$t1" "$rc" "$json" "$rss0" "$rss1" >>"$work/runs.tsv"
}

problems=$work/problems
mkdir "$work/json"; : >"$problems"; : >"$work/runs.tsv"
tool_id=$(stat -c '%Y %s %i' "$tool")  # to notice a rebuild during the run
echo "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); work dir $work; $runs runs per tool and size, $warmup warm-up round(s)"

for mib in $sizes; do
  start_victim
  echo
  echo "== $mib MiB: victim (a fresh one for every run) has $(find "/proc/$vpid/task" -mindepth 1 -maxdepth 1 | wc -l) threads, $(awk '/VmRSS/ {print $2, $3}' "/proc/$vpid/status") resident"
  kill_victim
  # The floor of a fork snapshot's pause: the kernel's own fork() of a
  # python3 process holding as much memory, timed inside that process.
  python3 - "$mib" <<'PY'
import os, statistics, sys, time
heap = bytearray(b"\x01") * (int(sys.argv[1]) << 20)
took = []
for _ in range(5):
    t = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    took.append(time.perf_counter() - t)
    os.waitpid(pid, 0)
# The first fork of a process costs several times the later ones: it
# write-protects every private page table entry and clears each page's
# exclusive mark, which a later fork finds already done. The target of a
# snapshot usually has never forked, so the first is the floor.
later = took[1:]
print(f"   floor: fork() of a python3 process holding {sys.argv[1]} MiB, in that process: "
      f"first {took[0] * 1e3:.1f} ms; later ones median {statistics.median(later) * 1e3:.1f} ms "
      f"(min {min(later) * 1e3:.1f}, max {max(later) * 1e3:.1f})")
PY
  for ((r = 1 - warmup; r <= runs; r++)); do
    round=$r; ((r >= 1)) || round=warmup
    for k in "${!names[@]}"; do run_tool "$k" "$round"; done
  done

  if [[ $(stat -c '%Y %s %i' "$tool" 2>/dev/null) != "$tool_id" ]]; then
    echo "$tool changed during the runs of $mib MiB (rebuilt?): they mix binaries" | tee -a "$problems" >&2
    tool_id=$(stat -c '%Y %s %i' "$tool" 2>/dev/null || true)
  fi
  echo "   (load average now $(cut -d' ' -f1-3 /proc/loadavg))"
  python3 - "$work/runs.tsv" "$mib" "$problems" "${names[@]}" <<'PY'
import json, statistics, sys
tsv, size, problems, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
GOAL_PAUSE, GOAL_RATIO = 0.050, 1.5
FORK, DEFAULT = names.index("triage-gcore --snapshot fork"), names.index("triage-gcore")
runs = {k: [] for k in range(len(names))}  # k -> [(wall, pause, report)]
failed = {k: 0 for k in range(len(names))}
grew = {k: [] for k in range(len(names))}  # k -> growth of the service's VmRSS in the run, kB
for line in open(tsv):
    mib, k, rnd, t0, t1, rc, js, rss0, rss1 = line.rstrip("\n").split("\t")
    if mib != size:
        continue
    k = int(k)
    grew[k].append(int(rss1) - int(rss0))
    if rc != "0":
        failed[k] += 1
        continue
    wall = float(t1) - float(t0)
    if k == 0:
        runs[k].append((wall, wall, None))
    else:
        rep = json.load(open(js))
        runs[k].append((wall, rep["stopped_seconds"] + rep["cleanup_stopped_seconds"], rep))

def spread(xs, unit):
    f = (lambda x: f"{x * 1e3:.1f}") if unit == "ms" else (lambda x: f"{x:.3f}")
    return f"{f(statistics.median(xs))} ({f(min(xs))}–{f(max(xs))}) {unit}"

med = {k: (statistics.median(w for w, _, _ in v), statistics.median(p for _, p, _ in v))
       for k, v in runs.items() if v}
gdb_wall = med[0][0] if 0 in med else None
rows = [("tool / strategy", "wall median (min–max)", "pause median (min–max)", "gcore wall / wall")]
for k, name in enumerate(names):
    v = runs[k]
    if not v:
        rows.append((name, "failed", "", ""))
        continue
    walls, pauses = [w for w, _, _ in v], [p for _, p, _ in v]
    pause = spread(pauses, "s" if max(pauses) >= 1 else "ms")
    ratio = f"{gdb_wall / med[k][0]:.2f}x" if gdb_wall and k else ("1x" if k == 0 else "")
    note = f"  ({failed[k]} run(s) failed)" if failed[k] else ""
    rows.append((name, spread(walls, "s"), pause, ratio + note))
width = [max(len(r[i]) for r in rows) for i in range(3)]
print()
for i, r in enumerate(rows):
    print(f"  {r[0]:<{width[0]}} | {r[1]:<{width[1]}} | {r[2]:<{width[2]}} | {r[3]}")
    if i == 0:
        print("  " + "-+-".join("-" * w for w in width) + "-+-" + "-" * 17)

# Per-run pauses of triage-gcore, and what each strategy actually did.
for k in range(1, len(names)):
    v = runs[k]
    if not v:
        continue
    reps = [rep for _, _, rep in v]
    how = []
    if k == FORK:
        forked = sum(bool(r["forked"]) for r in reps)
        how.append(f"forked {forked}/{len(reps)}")
        if forked < len(reps):
            how.append("fallback: " + ", ".join(sorted({str(r.get("fork_fallback")) for r in reps if not r["forked"]})))
        how.append("fork " + spread([r["fork_seconds"] for r in reps], "ms"))
        how.append("cleanup stop " + spread([r["cleanup_stopped_seconds"] for r in reps], "ms"))
    else:
        mem = sum(bool(r["copied_to_memory"]) for r in reps)
        how.append(f"copied to memory {mem}/{len(reps)}")
    pauses = " ".join(f"{p * 1e3:.0f}" for _, p, _ in v)
    print(f"    {names[k]}: {'; '.join(how)}; pauses of each run (ms): {pauses}")
for k, g in grew.items():
    if g and statistics.median(g) > 16 * 1024:
        print(f"    the service's resident memory grew by {statistics.median(g) / 1024:.0f} MiB (median) during {names[k]}")
rep = next((r for k in range(1, len(names)) for _, _, r in runs[k]), None)
if rep:
    print(f"    memory to dump (bytes_to_copy): {rep['bytes_to_copy'] / 2**20:.0f} MiB, "
          f"{rep['threads']} threads, {rep['mappings_dumped']}/{rep['mappings']} mappings")

missed = []
if gdb_wall:
    fast = [k for k in med if k and gdb_wall / med[k][0] >= GOAL_RATIO]
    best_pause = min((k for k in med if k), key=lambda k: med[k][1], default=None)
    if fast:
        best = min(fast, key=lambda k: med[k][1])
        print(f"  shortest pause with wall >= {GOAL_RATIO}x faster than gcore: {names[best]} "
              f"(pause {med[best][1] * 1e3:.1f} ms, {gdb_wall / med[best][0]:.2f}x faster)")
        if best_pause is not None and best_pause != best:
            print(f"    (the shortest pause overall, {names[best_pause]}, {med[best_pause][1] * 1e3:.1f} ms, "
                  f"is only {gdb_wall / med[best_pause][0]:.2f}x faster than gcore)")
    else:
        print(f"  no strategy is {GOAL_RATIO}x faster than gcore here")
if runs[FORK]:
    worst = max(p for _, p, _ in runs[FORK])
    ok = worst <= GOAL_PAUSE and not failed[FORK]
    print(f"  goal --snapshot fork pause <= {GOAL_PAUSE * 1e3:.0f} ms: {'met' if ok else 'MISSED'} (worst run {worst * 1e3:.1f} ms)")
    ok or missed.append("fork pause")
else:
    missed.append("fork pause"); print("  goal --snapshot fork pause: MISSED (no successful run)")
if gdb_wall and DEFAULT in med:
    ratio = gdb_wall / med[DEFAULT][0]
    ok = ratio >= GOAL_RATIO
    print(f"  goal default wall >= {GOAL_RATIO}x faster than gcore: {'met' if ok else 'MISSED'} ({ratio:.2f}x)")
    ok or missed.append("default wall")
else:
    missed.append("default wall"); print("  goal default wall: MISSED (no successful run of gcore or the default)")
if missed:
    open(problems + ".goals", "a").write(f"{size} MiB: {', '.join(missed)}\n")
PY
done

echo
if [[ -s $problems.goals ]]; then
  echo "goals missed:"; sed 's/^/  /' "$problems.goals"
else
  echo "every goal met"
fi
if [[ -s $problems ]]; then
  echo "problems:"; sed 's/^/  /' "$problems"
  exit 1
fi
echo "no problems: every run succeeded, the service stayed alive and was never left stopped"
