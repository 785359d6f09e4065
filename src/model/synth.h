// Deterministic random-weight Llama/Mistral/Mixtral models for tests and benchmarks:
// the real tokenizer and architecture, weights drawn from a seeded generator,
// written as GGUF that llama.cpp loads too, or as a Mistral or Hugging Face
// model folder holding the very same weights (model/checkpoint_export.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/thread_pool.h"
#include "formats/gguf.h"

namespace autan {

struct SynthOptions {
  std::string arch = "llama";  // llama | mixtral (8 experts, 2 per token)
  std::string shape = "tiny";  // tiny | small | 1b | 7b | nemo-tiny | nemo
  std::string type = "f32";    // a weight type (f32, f16, bf16, q8_0, q4_0, ...) or q4_k_m / q5_k_m
  uint64_t seed = 1;
  int32_t sliding_window = 0;  // written as llama.attention.sliding_window when > 0
  // Or one window per layer, cycled (0: full attention), written as an array
  // under the same key.
  std::vector<int32_t> layer_windows;
  // Appended to the vocabulary as control tokens (e.g. Mistral's "[TOOL_CALLS]").
  std::vector<std::string> control_tokens;
  // gguf (a file) | safetensors (a Hugging Face folder) | consolidated (a
  // Mistral folder); the folders take f32, f16 and bf16 only.
  std::string format = "gguf";
  int shards = 1;  // safetensors: that many model-0000i-of-0000N files
};

std::vector<std::string> SynthShapeNames();
std::vector<std::string> SynthTypeNames();

// Writes the model to `path` (a file, or a folder for the folder formats),
// copying every tokenizer.* key of `vocab`. The same options and seed give the
// same weights in every format.
Status WriteSynthModel(const SynthOptions& options, const gguf::File& vocab,
                       const std::string& path, ThreadPool& pool);

}  // namespace autan
