# Sourced by the side-by-side scripts that time an example against gdb on a
# Python victim: `side_by_side BUILD_DIR EXAMPLE TOOL...` sets `build`,
# `here` (the checkout), `example` (its path), `python` (Debian's
# python3.11), `work` (a scratch directory) and `victim` (for the caller to
# set; killed with `work` removed on exit), after checking that the example
# is built and that the interpreter and each TOOL are installed.
side_by_side() {
  build=$1
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  example=$build/examples/$2
  shift 2
  python=/usr/bin/python3.11
  [[ -x $example ]] || { echo "build $(basename "$example") first ($example)" >&2; exit 2; }
  [[ -x $python ]] || { echo "needs Debian's $python (and python3.11-dbg for gdb's py-bt)" >&2; exit 2; }
  for tool in "$@"; do command -v "$tool" >/dev/null || { echo "needs $*" >&2; exit 2; }; done
  work=$(mktemp -d)
  victim=
  trap '[[ -n $victim ]] && { kill -9 "$victim"; wait "$victim"; } 2>/dev/null; rm -rf "$work"' EXIT
}
