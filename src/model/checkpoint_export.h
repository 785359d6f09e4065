// Writes a GGUF model as a model folder in Mistral's layout (params.json,
// consolidated.safetensors, tokenizer.model.v3 or tekken.json) or Hugging
// Face's (config.json, model.safetensors or shards with an index, a tokenizer
// file and tokenizer_config.json): the inverse of formats/checkpoint.h, so the
// same weights exist in every layout and load to the same bits.
#pragma once

#include <string>

#include "core/result.h"
#include "formats/checkpoint.h"
#include "formats/gguf.h"

namespace autan {

struct ExportOptions {
  CheckpointLayout layout = CheckpointLayout::kHuggingFace;
  int shards = 1;  // Hugging Face only: model-0000i-of-0000N.safetensors + index
};

// `model` must be a "llama" GGUF with F32, F16 or BF16 tensors only (each kept
// as it is; Hugging Face's q/k rows get its half-split order back) and a
// vocabulary the folder can carry: SentencePiece ("llama") or Tekken (gpt2
// with the "tekken" pre-tokenizer). Creates `dir` if needed.
Status ExportCheckpoint(const gguf::File& model, const ExportOptions& options,
                        const std::string& dir);

}  // namespace autan
