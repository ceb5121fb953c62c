#!/usr/bin/env bash
# CPU time to compile each example program, header-only against separate
# compilation (TRIAGE_SEPARATE_COMPILATION, triage::compiled), one after the
# other on the same machine. Prints one row per example and the ratio.
#
#   benchmarks/compile_time.sh [BUILD_TYPE] [WORK_DIR]
#
# BUILD_TYPE defaults to RelWithDebInfo (-O2 -g, what CI and the demo use);
# WORK_DIR (default: a temporary directory, removed afterwards) holds the two
# configured trees. Each compile is the exact command CMake generates for
# the example's object file (from compile_commands.json), run alone under
# /usr/bin/time, so the figure is user+system CPU seconds of the compiler,
# independent of -j. The one-time cost of triage::compiled (src/triage.cpp)
# is printed too: a program built from N translation units pays it once.
# Goal (issue 9.5): <= 5 s per example in the compiled mode.
set -euo pipefail

build_type=${1:-RelWithDebInfo}
source_dir=$(cd "$(dirname "$0")/.." && pwd)
if [[ -n ${2:-} ]]; then
    work=$2
    mkdir -p "$work"
else
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT INT TERM
fi
for tool in cmake python3 /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "compile_time.sh: $tool is not installed" >&2; exit 2; }
done

configure() {  # directory, separate compilation ON|OFF
    cmake -S "$source_dir" -B "$1" -DCMAKE_BUILD_TYPE="$build_type" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
        -DTRIAGE_BUILD_TESTS=OFF -DTRIAGE_BUILD_BENCHMARKS=OFF -DTRIAGE_BUILD_EXAMPLES=ON \
        -DTRIAGE_SEPARATE_COMPILATION="$2" >/dev/null
}

# The compile command of one source file, as "directory<TAB>command".
command_for() {  # build directory, source path
    python3 - "$1/compile_commands.json" "$2" <<'EOF'
import json, sys
for entry in json.load(open(sys.argv[1])):
    if entry["file"] == sys.argv[2]:
        print(entry["directory"] + "\t" + entry["command"])
        break
else:
    sys.exit(f"no compile command for {sys.argv[2]}")
EOF
}

cpu_seconds() {  # build directory, source path: CPU seconds of its compile
    local line dir cmd
    line=$(command_for "$1" "$2")
    dir=${line%%$'\t'*}
    cmd=${line#*$'\t'}
    (cd "$dir" && /usr/bin/time -f '%U %S' -o "$work/time" bash -c "$cmd" >/dev/null 2>"$work/stderr") || {
        cat "$work/stderr" >&2
        echo "compile_time.sh: compiling $2 failed" >&2
        exit 1
    }
    awk '{ printf "%.1f", $1 + $2 }' "$work/time"
}

configure "$work/header-only" OFF
configure "$work/compiled" ON

library=$(cpu_seconds "$work/compiled" "$source_dir/src/triage.cpp")
echo "build type $build_type; triage::compiled (src/triage.cpp, once): $library s CPU"
printf '%-18s %12s %10s %7s\n' example header-only compiled ratio
total_h=0
total_c=0
for source in "$source_dir"/examples/*.cpp; do
    h=$(cpu_seconds "$work/header-only" "$source")
    c=$(cpu_seconds "$work/compiled" "$source")
    total_h=$(awk -v a="$total_h" -v b="$h" 'BEGIN { print a + b }')
    total_c=$(awk -v a="$total_c" -v b="$c" 'BEGIN { print a + b }')
    printf '%-18s %10s s %8s s %6.1fx\n' "$(basename "$source" .cpp)" "$h" "$c" "$(awk -v a="$h" -v b="$c" 'BEGIN { print a / b }')"
done
printf '%-18s %10s s %8s s   (compiled: + %s s once for the library)\n' "all examples" "$total_h" "$total_c" "$library"
