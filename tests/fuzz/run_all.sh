#!/usr/bin/env bash
# `make fuzz`: every fuzz target in turn for SECONDS each, one process at a
# time (nice), each starting from its committed corpus plus what earlier runs
# found in WORK. Prints one line per target (executions, or FAILED with the
# crashing input's path) and fails if any target failed.
#   run_all.sh BUILD_DIR SECONDS
set -uo pipefail
build=$1 seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$build/fuzz/work
failed=0
for bin in "$build"/fuzz/fuzz_*; do
  name=$(basename "$bin")
  name=${name#fuzz_}
  nice -n 19 "$here/run_target.sh" "$bin" "$name" "$seconds" "$work" || failed=1
done
exit $failed
