#!/usr/bin/env bash
# Investigates the bundled stuck service the way the incident's engineer
# wished they could: which thread is hot, whether it makes system calls,
# which line of Python it is on, a core file of the scene, read back, and
# which library functions the hot thread calls.
#   examples/demo/run-demo.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: run-demo.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
service_pid=
cleanup() {
  if [ -n "$service_pid" ]; then
    kill "$service_pid" 2>/dev/null || true
    wait "$service_pid" 2>/dev/null || true  # it dies of our SIGTERM: not the demo's exit status
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM  # Ctrl+C: stop the demo; the EXIT trap stops the service

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "$2"; }

python=/usr/bin/python3  # the system interpreter, as a service would run
echo "Starting the stuck service (examples/demo/stuck_service.py) with $python..."
"$python" "$here/stuck_service.py" --ready-file "$work/ready" &
service_pid=$!
for _ in $(seq 100); do [ -s "$work/ready" ] && break; sleep 0.1; done
[ -s "$work/ready" ] || { echo "the service did not start" >&2; exit 1; }
echo "service pid $service_pid: 26 threads, one of them spinning"

step "1. Which thread is hot, and is it in a system call? (reads /proc only)" \
     "triage-top $service_pid --interval 500"
"$build/examples/triage-top" "$service_pid" --interval 500

step "2. Does the hot thread make system calls? (ptrace: counts them for 300 ms)" \
     "triage-top $service_pid --interval 200 --syscalls 300 --limit 4"
"$build/examples/triage-top" "$service_pid" --interval 200 --syscalls 300 --limit 4

step "3. Which line of Python is each thread on? (no gdb, no debug symbols)" \
     "triage-pystack $service_pid"
"$build/examples/triage-pystack" "$service_pid" | awk '/^Thread/ {n++} n <= 2'
echo "... (24 more threads: the workers waiting on the dispatch lock, and the main thread)"

step "3b. And in C? The hot thread's native stack, its Python frames in place of the interpreter's loop" \
     "triage-pystack $service_pid --native"
"$build/examples/triage-pystack" "$service_pid" --native | awk '/^Thread/ {n++} n <= 1'

step "3c. Will native frames be named? Which binary runs, where its debug symbols are, what to install" \
     "triage-debuginfo $service_pid"
"$build/examples/triage-debuginfo" "$service_pid" --no-debuginfod | awk 'NR <= 2; /^\/usr\/bin\/python3/ {p = 1} p && /^$/ {p = 0} p'

step "4. Save the scene: a core file, written gently and sparsely" \
     "triage-gcore $service_pid -o $work/service.core"
"$build/examples/triage-gcore" "$service_pid" -o "$work/service.core"

step "5. The same Python stacks, later, from the core alone" \
     "triage-pystack --core $work/service.core"
"$build/examples/triage-pystack" --core "$work/service.core" | awk '/^Thread/ {n++} n <= 1'

step "6. Which library functions does the hot thread call? (kernel uprobes: never stopped, nothing written)" \
     "triage-plt $service_pid --hot -e 'mem*' -e 'str*' --object '*python3*' --duration 500"
"$build/examples/triage-plt" "$service_pid" --hot -e 'mem*' -e 'str*' --object '*python3*' --duration 500

step "6b. With which arguments? (int3 breakpoints from a guardian process: 4 calls, each read while it is stopped)" \
     "triage-plt $service_pid --hot -e 'memcpy(x,s,z)@*python3*' --trace 4"
"$build/examples/triage-plt" "$service_pid" --hot -e 'memcpy(x,s,z)@*python3*' --trace 4

step "7. All of it in one command, one stop, ending in a verdict to paste" \
     "triage-hotloop $service_pid --core $work/hotloop.core"
"$build/examples/triage-hotloop" "$service_pid" --core "$work/hotloop.core"

echo
if kill -0 "$service_pid" 2>/dev/null && ! grep -qP '^State:\s*[tT]' "/proc/$service_pid/status"; then
  echo "The service is still running, and was left neither stopped nor traced."
else
  echo "the service is not running!" >&2; exit 1
fi
