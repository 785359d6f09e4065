#!/usr/bin/env bash
# Compares autan's logits with the NumPy reference on a synth model.
# usage: check_logits.sh AUTAN SHAPE TYPE WINDOW_IN_FILE WINDOW_FLAG BATCH TOL_REL MIN_TOP1 [ARCH]
# WINDOW_IN_FILE: one window for every layer, or per-layer windows joined by
# '+' (e.g. 4+0: cycled over the layers). ARCH: llama (default) or mixtral.
set -euo pipefail
autan=$1 shape=$2 type=$3 file_window=$4 flag_window=$5 batch=$6 tol=$7 top1=$8 arch=${9:-llama}
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# "The quick brown fox..." and some French, tokenized with the Llama vocabulary.
tokens=1,450,4996,17354,1701,29916,432,17204,975,278,17366,11203,29889,1720,6303,1597,10098,29871,29900,29889,951,13563,316,9932,29889

window_in_file=(--sliding-window "$file_window")
[[ "$file_window" == *+* ]] && window_in_file=(--layer-windows "${file_window//+/,}")
"$autan" synth --arch "$arch" --shape "$shape" --type "$type" --seed 7 "${window_in_file[@]}" \
  "$dir/model.gguf"
window_args=()
[ "$flag_window" = "-" ] || window_args=(--sliding-window "$flag_window")
"$autan" logits -m "$dir/model.gguf" --tokens "$tokens" -b "$batch" -t 2 "${window_args[@]}" \
  --out "$dir/logits.bin"
/usr/bin/python3 "$here/compare.py" --model "$dir/model.gguf" --tokens "$tokens" \
  --actual "$dir/logits.bin" "${window_args[@]}" --tol-rel "$tol" --min-top1 "$top1"
