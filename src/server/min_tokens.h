// min_tokens (Mistral's FIM and chat): the tokens that end a generation are
// masked out until the choice has this many tokens.
#pragma once

#include <cmath>
#include <functional>
#include <memory>
#include <vector>

#include "runtime/scheduler.h"
#include "tokenizer/tokenizer.h"

namespace autan::server {

class MinTokensProcessor final : public LogitsProcessor {
 public:
  MinTokensProcessor(std::shared_ptr<const std::vector<int32_t>> end_tokens, int32_t min_tokens,
                     std::unique_ptr<LogitsProcessor> inner)
      : end_tokens_(std::move(end_tokens)), left_(min_tokens), inner_(std::move(inner)) {}

  void Apply(std::span<float> logits) override {
    if (inner_) inner_->Apply(logits);
    if (left_ <= 0) return;
    for (int32_t id : *end_tokens_) logits[static_cast<size_t>(id)] = -INFINITY;
  }
  void Accept(int32_t token) override {
    if (inner_) inner_->Accept(token);
    --left_;
  }
  bool Complete() const override { return inner_ && inner_->Complete(); }

 private:
  std::shared_ptr<const std::vector<int32_t>> end_tokens_;
  int32_t left_;
  std::unique_ptr<LogitsProcessor> inner_;
};

// Wraps `inner` (which may be empty) so each choice gets a MinTokensProcessor.
inline std::function<std::unique_ptr<LogitsProcessor>()> MinTokensFactory(
    const Tokenizer& tok, int32_t min_tokens,
    std::function<std::unique_ptr<LogitsProcessor>()> inner) {
  auto ends = std::make_shared<std::vector<int32_t>>();
  for (int32_t id = 0; id < tok.n_vocab(); ++id) {
    if (tok.IsEndOfGeneration(id)) ends->push_back(id);
  }
  return [ends = std::shared_ptr<const std::vector<int32_t>>(std::move(ends)), min_tokens,
          inner = std::move(inner)] {
    return std::make_unique<MinTokensProcessor>(ends, min_tokens, inner ? inner() : nullptr);
  };
}

}  // namespace autan::server
