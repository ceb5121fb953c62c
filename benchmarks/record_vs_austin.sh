#!/usr/bin/env bash
# Sampling profilers side by side: `triage-record` against `austin` (Debian's
# 1.0.1, which reads CPython up to 3.9) on the same 26-thread service
# (benchmarks/counting_service.py: 24 parked workers, one thread spinning in
# Python code and counting what it does, the main thread) on the same
# interpreter (pyenv's 3.9 by default; TRIAGE_BENCH_PYTHON=...), at 100 Hz,
# 1,000 Hz and each tool's maximum. For each it prints the rate achieved in
# a 3 s recording (triage-record: its own summary; austin: samples of the
# spinning thread over the time it ran) and the target's slowdown: the
# service's pace (its own count and clock) while the tool samples against
# its pace while the tool is held stopped (SIGSTOP), alternating every
# 250 ms for 20 s and taking the median over adjacent pairs; on a virtual
# machine whose speed drifts by ±20% over seconds, only windows this close
# together compare (the "none" row alternates with no tool: its spread is
# the floor of what this can resolve). Then each maximum again, three
# times, alternating, and triage at 5x austin's median maximum against
# austin at its maximum, window against window ("the same slowdown" asked
# directly: a positive number is what triage costs beyond austin). Then the timer floor
# (benchmarks/timer_floor.c): the rate a loop with the sampler's timing
# achieves when each tick is busy work of a triage-record tick's length.
#   usage: benchmarks/record_vs_austin.sh [BUILD_DIR]
set -euo pipefail
source "$(dirname "$0")/side_by_side.sh"
side_by_side "${1:-build}" triage-record austin
record=$example
python=${TRIAGE_BENCH_PYTHON:-$(ls -d /root/.pyenv/versions/3.9*/bin/python3.9 2>/dev/null | head -1)}
[[ -x $python ]] || { echo "needs a CPython 3.9 (pyenv install 3.9) or TRIAGE_BENCH_PYTHON" >&2; exit 2; }
pairs=${PAIRS:-40}
"$python" "$here/benchmarks/counting_service.py" "$work/ready" "$work/count" &
victim=$!
for _ in $(seq 300); do [[ -s $work/ready && -s $work/count ]] && break; sleep 0.1; done
[[ -s $work/ready ]] || { echo "the service did not start" >&2; exit 1; }
spinner=$(for t in /proc/$victim/task/*; do [[ $(cat "$t/comm") == python* ]] && echo "$(awk '{print $14}' "$t/stat") ${t##*/}"; done |
          sort -n | tail -1 | cut -d' ' -f2)  # the thread with the most user time

rate_of() {  # name command...: the rate achieved over a 3 s recording
  local name=$1; shift
  timeout -s INT -k 5 3.5 "$@" > "$work/$name.out" 2> "$work/$name.err" || true
  case $name in
    triage*) sed -n 's/.* s, \([0-9.]*\) Hz of .*/\1/p' "$work/$name.err" ;;
    austin*) python3 - "$work/$name.out" <<'PY'
import collections, sys
threads = collections.Counter(l.split(";", 1)[0] for l in open(sys.argv[1], errors="replace") if l.startswith("Thread"))
print(f"{max(threads.values()) / 3.5:.1f}" if threads else 0)  # one line per thread per sample
PY
    ;;
    *) echo 0 ;;
  esac
}

slowdown_of() {  # command... [-- baseline...]: the median slowdown over adjacent windows, the
  # command sampling in one and held stopped (SIGSTOP) in the next, while the
  # baseline command, if any, samples instead
  local cmd=() base=()
  while (($#)) && [[ $1 != -- ]]; do cmd+=("$1"); shift; done
  (($#)) && { shift; base=("$@"); }
  "${cmd[@]}" > /dev/null 2>&1 &
  local tool=$! other=0
  if ((${#base[@]})); then "${base[@]}" > /dev/null 2>&1 & other=$!; fi
  sleep 0.5
  python3 - "$tool" "$other" "$work/count" "$pairs" <<'PY'
import os, signal, statistics, sys, time
tool, other, path, pairs = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
def pace():
    count, at = open(path).read().split()[:2]
    return int(count), float(at)
def window(run, hold):  # pid 0: none
    if hold: os.kill(hold, signal.SIGSTOP)
    if run: os.kill(run, signal.SIGCONT)
    a = pace(); time.sleep(0.25); b = pace()
    return (b[0] - a[0]) / (b[1] - a[1]) if b[1] > a[1] else None
slow = []
for _ in range(pairs):
    on = window(tool, other); off = window(other, tool)
    if on and off: slow.append(100 * (1 - on / off))
for p in (tool, other):
    if p: os.kill(p, signal.SIGCONT)
q = statistics.quantiles(slow, n=4)
print(f"{statistics.median(slow):5.1f}% (quartiles {q[0]:.1f} / {q[2]:.1f}, {len(slow)} pairs)")
PY
  for p in $tool $other; do ((p)) && kill -INT "$p" 2>/dev/null; done; sleep 0.2
  for p in $tool $other; do ((p)) && { kill -KILL "$p"; wait "$p"; } 2>/dev/null; done; true
}

median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

measure() {  # name command...
  local name=$1; shift
  printf '%-14s %9s Hz   slowdown %s\n' "$name" "$(rate_of "$name" "$@")" "$(slowdown_of "$@")"
}

echo "service $victim on $("$python" -c 'import sys; print(sys.version.split()[0])'), spinning thread $spinner, $(ls /proc/$victim/task | wc -l) threads"
measure none sleep 3600
measure triage-100 "$record" "$victim" -o "$work/t100.folded" --rate 100
measure austin-100 austin -p "$victim" -i 10000
measure triage-1000 "$record" "$victim" -o "$work/t1000.folded" --rate 1000
measure austin-1000 austin -p "$victim" -i 1000
measure triage-max "$record" "$victim" -o "$work/tmax.folded" --rate 100000
measure austin-max austin -p "$victim" -i 1
# Each maximum again, three recordings each, alternating (the VM's speed
# drifts), and triage at 5x austin's median maximum against austin at its
# maximum: the first's windows against the second's, so a positive slowdown
# is what triage costs the target beyond what austin does.
for round in 1 2 3; do
  rate_of triage-max "$record" "$victim" -o "$work/tmax.folded" --rate 100000 >> "$work/triage-max.rates"
  rate_of austin-max austin -p "$victim" -i 1 >> "$work/austin-max.rates"
done
triage_max=$(median < "$work/triage-max.rates"); austin_max=$(median < "$work/austin-max.rates")
five=$(awk -v r="$austin_max" 'BEGIN {printf "%d", 5 * r}')
echo "maxima, three recordings each: triage $(tr '\n' ' ' < "$work/triage-max.rates")Hz, austin $(tr '\n' ' ' < "$work/austin-max.rates")Hz;" \
     "medians $triage_max / $austin_max = $(awk -v a="$triage_max" -v b="$austin_max" 'BEGIN {printf "%.1f", a / b}')x"
printf '%-14s %9s Hz   slowdown %s\n' triage-5x "$(rate_of triage-5x "$record" "$victim" -o "$work/t5x.folded" --rate "$five")" \
       "$(slowdown_of "$record" "$victim" -o "$work/t5x.folded" --rate "$five" -- austin -p "$victim" -i 1) beyond austin-max's"
floor=$build/benchmarks/bench_timer_floor
if [[ -x $floor ]]; then
  echo "timer floor: $("$floor" 100 3 400)"
  echo "timer floor: $("$floor" 1000 3 400)"
fi
