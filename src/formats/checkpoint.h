// A model folder in Mistral's own layout (params.json + consolidated.safetensors)
// or Hugging Face's (config.json + model*.safetensors), seen as the GGUF file
// llama.cpp's converter would write for it: "llama" architecture metadata and
// GGUF tensor names. Weights whose layout already matches are views into the
// mapped safetensors; only what differs is converted, into memory the view
// keeps: norm vectors to f32, and Hugging Face's q/k projection rows back to
// RoPE's interleaved pairs (its checkpoints store each head's two halves
// apart). The tokenizer is not part of the view (tekken.json, tokenizer.model
// or tokenizer.json beside the weights; see CheckpointView::tokenizer_path).
#pragma once

#include <optional>
#include <string>

#include "core/result.h"
#include "formats/gguf.h"

namespace autan {

enum class CheckpointLayout { kMistral, kHuggingFace };

// What a folder's tokenizer_config.json says (Hugging Face's layout).
struct TokenizerConfig {
  std::optional<std::string> chat_template;  // in the view's metadata too (HF layout)
  std::optional<bool> add_bos, add_eos;      // add_bos_token, add_eos_token
};

struct CheckpointView {
  CheckpointLayout layout = CheckpointLayout::kMistral;
  gguf::File file;             // the GGUF view
  std::string tokenizer_path;  // the tokenizer file found beside it, or empty
  TokenizerConfig tokenizer_config;
};

// Whether `path` is a folder holding params.json or config.json.
bool IsCheckpointFolder(const std::string& path);

// Validates the hyperparameters (each error names the file and the field)
// and every tensor (present, shaped as the hyperparameters say, a float
// dtype) before building the view.
Result<CheckpointView> OpenCheckpoint(const std::string& dir);

}  // namespace autan
