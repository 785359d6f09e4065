#!/usr/bin/env bash
# Runs one fuzz target: replays its committed corpus (tests/fuzz/corpus/NAME,
# regression inputs included) and then fuzzes for SECONDS, adding what it
# finds to WORK/NAME (never to the committed corpus). Crashes, leaks, UB,
# timeouts and out-of-memory go to WORK/NAME-artifacts and fail the run.
# The last line states the executions done, for docs/FUZZING.md.
# FUZZ_FRESH=1 empties WORK/NAME first (the smoke in `make test`: only the
# committed corpus is replayed, however much longer runs found).
#   run_target.sh BINARY NAME SECONDS WORK [extra libFuzzer flags...]
set -euo pipefail
bin=$1 name=$2 seconds=$3 work=$4
shift 4
here=$(cd "$(dirname "$0")" && pwd)
corpus=$here/corpus/$name
case $name in
  tokenizer_*) dict=$here/dict/tokenizer.dict ;;  # one dictionary for both vocabularies
  *) dict=$here/dict/$name.dict ;;
esac
[ "${FUZZ_FRESH:-0}" = 1 ] && rm -rf "${work:?}/$name"
mkdir -p "$work/$name" "$work/$name-artifacts" "$corpus"
flags=(-max_total_time="$seconds" -timeout=25 -rss_limit_mb=2560 -max_len=65536
       -print_final_stats=1 -artifact_prefix="$work/$name-artifacts/")
[ -f "$dict" ] && flags+=(-dict="$dict")
log=$work/$name.log
set +e
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$bin" "${flags[@]}" "$@" "$work/$name" "$corpus" \
  >"$log" 2>&1
rc=$?
set -e
execs=$(grep -a '^stat::number_of_executed_units' "$log" | awk '{print $2}' | tail -1)
if [ "$rc" -ne 0 ]; then
  tail -n 60 "$log"
  echo "fuzz $name: FAILED (exit $rc) after ${execs:-?} executions; inputs in $work/$name-artifacts"
  exit 1
fi
echo "fuzz $name: ok, ${execs:-?} executions in ${seconds}s, corpus $(ls "$work/$name" | wc -l)+$(ls "$corpus" | wc -l) inputs"
