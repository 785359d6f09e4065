#include "runtime/session.h"

#include <algorithm>
#include <cmath>

namespace autan {

Result<std::unique_ptr<Session>> Session::Create(std::shared_ptr<const Model> model,
                                                 ThreadPool& pool, SessionOptions options) {
  if (options.n_ctx < 1 || options.n_ctx > (1 << 24)) {
    return Fail("context size %d out of range (1..16777216)", options.n_ctx);
  }
  if (options.max_batch < 1 || options.max_batch > 65536) {
    return Fail("batch size %d out of range (1..65536)", options.max_batch);
  }
  AUTAN_TRY(KvCache::Supports(model->config(), options.kv_type));
  return std::unique_ptr<Session>(new Session(std::move(model), pool, options));
}

Session::Session(std::shared_ptr<const Model> model, ThreadPool& pool, SessionOptions options)
    : model_(std::move(model)),
      pool_(pool),
      options_(options),
      cache_(model_->config(), options.n_ctx, options.max_batch, options.kv_type),
      logits_(static_cast<size_t>(model_->config().n_vocab)) {}

Status Session::Check(std::span<const int32_t> tokens) const {
  const int32_t n_vocab = model_->config().n_vocab;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || tokens[i] >= n_vocab) {
      return Fail("token %d at index %zu is outside the vocabulary (0..%d)", tokens[i], i,
                  n_vocab - 1);
    }
  }
  if (tokens.size() > static_cast<size_t>(options_.n_ctx - n_past_)) {
    return Fail("%zu tokens after %d already in context exceed the context size %d", tokens.size(),
                n_past_, options_.n_ctx);
  }
  return {};
}

void Session::Run(std::span<const int32_t> tokens, size_t logits_from, float* logits) {
  const KvCacheView view = cache_.view();
  const size_t n_vocab = static_cast<size_t>(model_->config().n_vocab);
  for (size_t start = 0; start < tokens.size(); start += options_.max_batch) {
    const size_t end = std::min(tokens.size(), start + options_.max_batch);
    batch_.Clear();
    for (size_t i = start; i < end; ++i) {
      batch_.Add(tokens[i], n_past_ + static_cast<int32_t>(i - start), 0, i >= logits_from);
    }
    // Rows already written by earlier chunks.
    float* out = logits + (start > logits_from ? start - logits_from : 0) * n_vocab;
    model_->Forward(batch_, std::span(&view, 1), scratch_, pool_, out);
    n_past_ += static_cast<int32_t>(end - start);
  }
}

bool Session::Rewind(int32_t n) {
  if (n < 0 || n > n_past_) return false;
  if (n < n_past_ && model_->config().sliding_window > 0 && n_past_ > cache_.capacity()) {
    return false;
  }
  n_past_ = n;
  return true;
}

Result<std::span<const float>> Session::Eval(std::span<const int32_t> tokens) {
  if (tokens.empty()) return Fail("nothing to evaluate");
  AUTAN_TRY(Check(tokens));
  Run(tokens, tokens.size() - 1, logits_.data());
  return std::span<const float>(logits_);
}

Result<std::vector<float>> Session::EvalAll(std::span<const int32_t> tokens, size_t logits_from) {
  if (tokens.empty()) return Fail("nothing to evaluate");
  if (logits_from >= tokens.size()) {
    return Fail("logits asked from token %zu of %zu", logits_from, tokens.size());
  }
  AUTAN_TRY(Check(tokens));
  std::vector<float> logits((tokens.size() - logits_from) *
                            static_cast<size_t>(model_->config().n_vocab));
  Run(tokens, logits_from, logits.data());
  return logits;
}

Result<std::vector<float>> Session::Embed(std::span<const int32_t> tokens) {
  if (tokens.empty()) return Fail("nothing to embed");
  n_past_ = 0;
  AUTAN_TRY(Check(tokens));
  const size_t dim = static_cast<size_t>(model_->config().dim);
  hidden_.resize(static_cast<size_t>(options_.max_batch) * dim);
  std::vector<double> sum(dim, 0.0);  // double: long inputs add thousands of rows
  const KvCacheView view = cache_.view();
  for (size_t start = 0; start < tokens.size(); start += options_.max_batch) {
    const size_t end = std::min(tokens.size(), start + options_.max_batch);
    batch_.Clear();
    for (size_t i = start; i < end; ++i) {
      batch_.Add(tokens[i], n_past_ + static_cast<int32_t>(i - start), 0, true);
    }
    model_->Forward(batch_, std::span(&view, 1), scratch_, pool_, nullptr, hidden_.data());
    for (size_t r = 0; r < end - start; ++r) {
      for (size_t j = 0; j < dim; ++j) sum[j] += hidden_[r * dim + j];
    }
    n_past_ += static_cast<int32_t>(end - start);
  }
  double norm = 0.0;
  for (double v : sum) norm += v * v;
  norm = std::sqrt(norm);
  // The mean's 1/n cancels in the normalization; an all-zero state stays zero.
  std::vector<float> out(dim, 0.0f);
  if (norm > 0.0) {
    for (size_t j = 0; j < dim; ++j) out[j] = static_cast<float>(sum[j] / norm);
  }
  return out;
}

}  // namespace autan
