#!/usr/bin/env bash
# Compares autan's embedding of a token list with the NumPy reference's.
# usage: check_embedding.sh AUTAN SHAPE TYPE BATCH TOL_REL MIN_COS
set -euo pipefail
autan=$1 shape=$2 type=$3 batch=$4 tol=$5 min_cos=$6
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# The same sentence as check_logits.sh, tokenized with the Llama vocabulary.
tokens=1,450,4996,17354,1701,29916,432,17204,975,278,17366,11203,29889,1720,6303,1597,10098,29871,29900,29889,951,13563,316,9932,29889

"$autan" synth --shape "$shape" --type "$type" --seed 7 "$dir/model.gguf"
"$autan" logits -m "$dir/model.gguf" --tokens "$tokens" -b "$batch" -t 2 --embedding \
  --out "$dir/embedding.bin"
/usr/bin/python3 "$here/compare.py" --embedding --model "$dir/model.gguf" --tokens "$tokens" \
  --actual "$dir/embedding.bin" --tol-rel "$tol" --min-cos "$min_cos"
