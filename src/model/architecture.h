// The interface between the model-independent engine and one architecture's
// forward pass. Adding an architecture = one file implementing a loader plus
// one line in the registry of model.cpp.
#pragma once

#include <memory>
#include <span>

#include "core/result.h"
#include "core/thread_pool.h"
#include "formats/gguf.h"
#include "model/config.h"
#include "model/forward.h"

namespace autan {

struct ForwardArgs {
  const Batch& batch;
  std::span<const KvCacheView> caches;
  ForwardScratch& scratch;
  ThreadPool& pool;
  float* logits;  // [number of tokens with want_logits][n_vocab], in batch order; may be null
  // [number of tokens with want_logits][dim]: their final hidden states after
  // the output norm (what embeddings pool); null when not wanted.
  float* hidden = nullptr;
};

class Architecture {
 public:
  virtual ~Architecture() = default;
  virtual void Forward(const ForwardArgs& args) const = 0;
};

// Reads the architecture's hyperparameters into `config` (whose generic
// fields are already set) and binds its weights, checking every shape.
using ArchitectureLoader = Result<std::unique_ptr<const Architecture>> (*)(const gguf::File& file,
                                                                           ModelConfig& config);

Result<std::unique_ptr<const Architecture>> LoadLlama(const gguf::File& file, ModelConfig& config);

}  // namespace autan
