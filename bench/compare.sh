#!/usr/bin/env bash
# Side-by-side throughput of autan and llama.cpp on the very same files.
#
#   LLAMA_CPP_DIR=/path/to/llama.cpp/build/bin bench/compare.sh \
#       [--shapes 1b,7b] [--types q4_0,q8_0,q4_k_m,f16] [--threads 1,2] [--reps 3] \
#       [-p 512] [-n 128] [--rounds 1] [--cache DIR] [--autan PATH]
#
# LLAMA_CPP_DIR is a llama.cpp build the user made (it must hold llama-bench);
# this script neither builds nor downloads anything. Synth models are made once
# by `autan synth` into the cache dir (default ~/.cache/autan-bench, or
# $AUTAN_BENCH_CACHE) and reused. For every model and thread count, llama-bench
# and `autan bench` run alternately (the order flips each time) with the same
# -p/-n/-t/-r; --rounds repeats the pairs and the table shows medians. Decode
# rows also show each engine's fraction of the bandwidth roofline: t/s over
# (autan-membw GB/s at that thread count / weight bytes read per token).
# 7b files are 4+ GB each, hence the 1b default.
set -euo pipefail

usage() {
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
die() {
  echo "compare.sh: $*" >&2
  exit 2
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
shapes=1b
types=q4_0,q8_0,q4_k_m,f16
threads=1,2
reps=3
n_prompt=512
n_gen=128
rounds=1
cache="${AUTAN_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/autan-bench}"
autan="${AUTAN_BIN:-}"

while [[ $# -gt 0 ]]; do
  [[ $# -ge 2 ]] || { [[ "$1" == -h || "$1" == --help ]] && usage; die "$1 needs a value"; }
  case "$1" in
    --shapes) shapes="$2" ;;
    --types) types="$2" ;;
    --threads | -t) threads="$2" ;;
    --reps | -r) reps="$2" ;;
    -p) n_prompt="$2" ;;
    -n) n_gen="$2" ;;
    --rounds) rounds="$2" ;;
    --cache) cache="$2" ;;
    --autan) autan="$2" ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift 2
done

list_re='^[a-z0-9_]+(,[a-z0-9_]+)*$'
num_list_re='^[0-9]+(,[0-9]+)*$'
[[ "$shapes" =~ $list_re ]] || die "--shapes: expected e.g. 1b,7b"
[[ "$types" =~ $list_re ]] || die "--types: expected e.g. q4_0,q8_0"
[[ "$threads" =~ $num_list_re && ! ",$threads," =~ ,0+, ]] || die "--threads: expected e.g. 1,2"
[[ "$reps" =~ ^[1-9][0-9]*$ ]] || die "--reps: expected a positive number"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || die "--rounds: expected a positive number"
[[ "$n_prompt" =~ ^[0-9]+$ && "$n_gen" =~ ^[0-9]+$ ]] || die "-p/-n: expected numbers"
((n_prompt + n_gen > 0)) || die "-p and -n are both 0"

[[ -n "${LLAMA_CPP_DIR:-}" ]] || die "set LLAMA_CPP_DIR to a llama.cpp build dir holding llama-bench"
llama_bench="$LLAMA_CPP_DIR/llama-bench"
[[ -x "$llama_bench" ]] || die "$llama_bench: not found or not executable (build llama.cpp first)"
# Only the release preset by default: a debug or sanitizer build would be
# compared by mistake.
[[ -n "$autan" ]] || autan="$here/../build/release/autan"
[[ -x "$autan" ]] || die "$autan not found: pass --autan PATH (a Release build) or set AUTAN_BIN"
membw="$(dirname "$autan")/autan-membw"
[[ -x "$membw" ]] || die "$membw not found (build the autan-membw target)"
python=/usr/bin/python3
[[ -x "$python" ]] || python=python3

mkdir -p "$cache"
run_dir="$cache/runs/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$run_dir"
timer=()
[[ -x /usr/bin/time ]] && timer=(/usr/bin/time -f "%M")  # peak RSS in KiB

# Models: made once, written under a temporary name so an interrupted
# synth never leaves a truncated file behind.
models=()
for shape in ${shapes//,/ }; do
  for type in ${types//,/ }; do
    file="$cache/$shape-$type.gguf"
    if [[ ! -s "$file" ]]; then
      echo "compare.sh: making $file" >&2
      "$autan" synth --shape "$shape" --type "$type" "$file.partial" >&2
      mv "$file.partial" "$file"
    fi
    models+=("$file")
  done
done

# What ran, for the record: the binary and the tree this script lives in.
tree="$(git -C "$here" describe --always --dirty 2>/dev/null || echo unknown)"
printf '{"autan": "%s", "tree": "%s", "args": "-p %s -n %s -r %s --rounds %s"}\n' \
  "$(realpath "$autan")" "$tree" "$n_prompt" "$n_gen" "$reps" "$rounds" >"$run_dir/meta.json"

echo "compare.sh: measuring read bandwidth" >&2
"$membw" --threads "$threads" --json >"$run_dir/membw.json"

# run_engine ENGINE MODEL THREADS ROUND: one bench run, json + peak RSS saved.
run_engine() {
  local engine="$1" model="$2" t="$3" round="$4"
  local base
  base="$run_dir/$(basename "$model" .gguf)-t$t-r$round-$engine"
  echo "compare.sh: $engine $(basename "$model") -t $t (round $round)" >&2
  local cmd
  if [[ "$engine" == llama ]]; then
    cmd=("$llama_bench" -m "$model" -p "$n_prompt" -n "$n_gen" -t "$t" -r "$reps" -o json)
  else
    cmd=("$autan" bench -m "$model" -p "$n_prompt" -n "$n_gen" -t "$t" -r "$reps" -o json)
  fi
  if ((${#timer[@]})); then
    "${timer[@]}" -o "$base.rss" "${cmd[@]}" >"$base.json" 2>"$base.log" ||
      die "$engine failed on $model, see $base.log (results so far: $run_dir)"
  else
    "${cmd[@]}" >"$base.json" 2>"$base.log" || die "$engine failed on $model, see $base.log (results so far: $run_dir)"
  fi
}

pair=0
for ((round = 1; round <= rounds; ++round)); do
  for model in "${models[@]}"; do
    for t in ${threads//,/ }; do
      if ((pair % 2 == 0)); then
        run_engine llama "$model" "$t" "$round"
        run_engine autan "$model" "$t" "$round"
      else
        run_engine autan "$model" "$t" "$round"
        run_engine llama "$model" "$t" "$round"
      fi
      pair=$((pair + 1))
    done
  done
done

"$python" "$here/compare_report.py" "$run_dir"
echo "raw results: $run_dir (bench/compare_report.py reprints the table)" >&2
