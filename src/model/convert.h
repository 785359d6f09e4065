// `autan convert`: a Mistral or Hugging Face model folder written as the GGUF
// file llama.cpp's converter makes of it: architecture "llama" with its
// llama.* keys (expert counts, RoPE, sliding window), GGUF tensor names with
// Mixtral's experts stacked per layer, norms and router in F32, the other
// weights F32/F16/BF16 as stored or as asked, and the tokenizer
// (SentencePiece as "llama"; Tekken as "gpt2" with merges and the "tekken"
// pre-tokenizer) with the chat template of tokenizer_config.json.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/dtype.h"
#include "core/result.h"

namespace autan {

struct ConvertOptions {
  std::optional<DType> type;  // F32, F16 or BF16 for every matrix; none: each kept as stored
  // Called before each tensor is written: its index, the count, its name and type.
  std::function<void(size_t i, size_t n, const std::string& name, DType type)> progress;
};

struct ConvertReport {
  size_t n_tensors = 0;
  uint64_t n_bytes = 0;  // tensor data written
};

// Validates everything (hyperparameters, tensors, tokenizer, types) before
// writing `out`; each error names the file and the field or tensor.
Result<ConvertReport> ConvertCheckpoint(const std::string& dir, const std::string& out,
                                        const ConvertOptions& options);

}  // namespace autan
