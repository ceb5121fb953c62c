#!/usr/bin/env bash
# The README's two commands (.ci/demo, .ci/test) must work in either order
# in one checkout. What made them interfere was configuration: the demo's
# cached TRIAGE_BUILD_TESTS=OFF silenced the suite. In two fresh clones,
# configure the demo and the suite in both orders exactly as the two
# commands do, and check each build still has what its command needs.
#   commands_in_either_order.sh SOURCE_DIR WORK_DIR
set -euo pipefail
source_dir=${1:?SOURCE_DIR}
work=${2:?WORK_DIR}
rm -rf "$work"
mkdir -p "$work"

check() {  # clone
  local clone=$1 tests
  tests=$(cd "$clone/build" && ctest -N | sed -n 's/^Total Tests: //p')
  [ "${tests:-0}" -gt 0 ] || { echo "FAIL: $clone/build has no tests"; return 1; }
  grep -q '^TRIAGE_WERROR:BOOL=ON' "$clone/build/CMakeCache.txt" || { echo "FAIL: the suite builds without TRIAGE_WERROR"; return 1; }
  ninja -C "$clone/build-demo" -n triage_examples >/dev/null ||
    { echo "FAIL: $clone/build-demo cannot build the examples"; return 1; }
  grep -q '^TRIAGE_BUILD_TESTS:BOOL=OFF' "$clone/build-demo/CMakeCache.txt" ||
    { echo "FAIL: the demo's build configures the tests"; return 1; }
  echo "ok: $tests tests in build/, examples in build-demo/"
}

for order in "demo test" "test demo"; do
  clone="$work/${order// /-then-}"
  git clone -q "$source_dir" "$clone"
  for job in $order; do "$clone/.ci/configure" "$job" >/dev/null; done
  echo "$order:"
  check "$clone"
done
