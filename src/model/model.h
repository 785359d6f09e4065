// A loaded model: configuration, weights (views into the mapped file) and
// tokenizer. Immutable after Load and shared by every session and thread.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>

#include "core/result.h"
#include "core/thread_pool.h"
#include "formats/gguf.h"
#include "model/architecture.h"
#include "model/config.h"
#include "model/forward.h"
#include "tokenizer/tokenizer.h"

namespace autan {

struct LoadOptions {
  int32_t sliding_window = -1;  // -1: from the file; 0: full attention; N: window of N positions
};

class Model {
 public:
  // `path`: a GGUF file, or a folder in Mistral's layout (params.json +
  // consolidated.safetensors) or Hugging Face's (config.json +
  // model*.safetensors) with its tokenizer file beside the weights.
  static Result<std::shared_ptr<const Model>> Load(const std::string& path,
                                                   const LoadOptions& options = {});
  // The same for a file already parsed (from memory: tests, fuzzing; or a
  // checkpoint seen as GGUF); errors name file.path(). The tokenizer comes
  // from the file's metadata unless given.
  static Result<std::shared_ptr<const Model>> FromFile(gguf::File file,
                                                       const LoadOptions& options = {},
                                                       std::optional<Tokenizer> tokenizer = {});

  const ModelConfig& config() const { return config_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }
  const gguf::File& file() const { return file_; }

  // Runs the batch through the network, appending each token's keys and
  // values to its sequence's cache, and writes logits (unless `logits` is
  // null) and normalized final hidden states (if `hidden` is given) for the
  // tokens that want them. Thread-safe: concurrent calls need distinct
  // scratch and caches.
  void Forward(const Batch& batch, std::span<const KvCacheView> caches, ForwardScratch& scratch,
               ThreadPool& pool, float* logits, float* hidden = nullptr) const {
    arch_->Forward({batch, caches, scratch, pool, logits, hidden});
  }

 private:
  Model(gguf::File file, ModelConfig config, Tokenizer tokenizer,
        std::unique_ptr<const Architecture> arch)
      : file_(std::move(file)),
        config_(std::move(config)),
        tokenizer_(std::move(tokenizer)),
        arch_(std::move(arch)) {}

  gguf::File file_;
  ModelConfig config_;
  Tokenizer tokenizer_;
  std::unique_ptr<const Architecture> arch_;
};

}  // namespace autan
