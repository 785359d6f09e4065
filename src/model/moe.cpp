#include "model/moe.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "kernels/quant.h"
#include "model/weights.h"

namespace autan {
namespace {

// Expert e of a [cols, rows, n_expert] tensor is its e-th [rows][cols] slice.
Result<std::vector<Tensor>> BindExperts(const gguf::File& file, const std::string& name,
                                        int64_t cols, int64_t rows, int32_t n_expert) {
  const gguf::TensorInfo* info = file.FindTensor(name);
  if (info == nullptr) return Fail("missing tensor '%s'", name.c_str());
  const std::vector<uint64_t> want = {static_cast<uint64_t>(cols), static_cast<uint64_t>(rows),
                                      static_cast<uint64_t>(n_expert)};
  if (info->dims != want) {
    std::string dims;
    for (uint64_t d : info->dims) dims += (dims.empty() ? "" : ", ") + std::to_string(d);
    return Fail("tensor '%s' has shape [%s], expected [%lld, %lld, %d]", name.c_str(), dims.c_str(),
                static_cast<long long>(cols), static_cast<long long>(rows), n_expert);
  }
  if (!kernels::IsComputeType(info->type)) {
    return Fail("tensor '%s' has type %s, which this engine cannot compute with", name.c_str(),
                std::string(Info(info->type).name).c_str());
  }
  std::vector<Tensor> experts(static_cast<size_t>(n_expert));
  const size_t row_bytes = *RowBytes(info->type, static_cast<uint64_t>(cols));
  for (int32_t e = 0; e < n_expert; ++e) {
    Tensor& t = experts[static_cast<size_t>(e)];
    t.type = info->type;
    t.cols = cols;
    t.rows = rows;
    t.row_bytes = row_bytes;
    t.data = info->data + static_cast<size_t>(e) * static_cast<size_t>(rows) * row_bytes;
  }
  return experts;
}

// Expert e as its own tensor, `<name>.<e>.weight` (llama.cpp's first Mixtral
// files, and Mistral/Hugging Face checkpoints seen as GGUF).
Result<std::vector<Tensor>> BindEachExpert(const gguf::File& file, const std::string& name,
                                           int64_t cols, int64_t rows, int32_t n_expert) {
  std::vector<Tensor> experts;
  for (int32_t e = 0; e < n_expert; ++e) {
    Result<Tensor> t = BindTensor(file, name + "." + std::to_string(e) + ".weight", cols, rows);
    if (!t.ok()) return t.error();
    experts.push_back(*t);
  }
  return experts;
}

void MatMul(const Tensor& w, const float* x, size_t n, float* y, ForwardScratch& s,
            ThreadPool& pool) {
  kernels::MatMul(w.type, w.data, static_cast<size_t>(w.rows), static_cast<size_t>(w.cols), x, n, y,
                  pool, s.matmul);
}

}  // namespace

Result<MoeWeights> BindMoeWeights(const gguf::File& file, const std::string& prefix, int32_t dim,
                                  int32_t ffn_dim, int32_t n_expert, int32_t n_used) {
  MoeWeights w;
  w.n_used = n_used;
  Result<Tensor> router = BindTensor(file, prefix + "ffn_gate_inp.weight", dim, n_expert);
  if (!router.ok()) return router.error();
  w.router = *router;
  // Stacked experts (ffn_gate_exps), or one tensor each (ffn_gate.0 ...).
  const bool stacked = HasTensor(file, prefix + "ffn_gate_exps.weight") ||
                       !HasTensor(file, prefix + "ffn_gate.0.weight");
  auto bind = [&](const char* what, int64_t cols, int64_t rows) {
    const std::string name = prefix + what;
    return stacked ? BindExperts(file, name + "_exps.weight", cols, rows, n_expert)
                   : BindEachExpert(file, name, cols, rows, n_expert);
  };
  Result<std::vector<Tensor>> gate = bind("ffn_gate", dim, ffn_dim);
  if (!gate.ok()) return gate.error();
  Result<std::vector<Tensor>> up = bind("ffn_up", dim, ffn_dim);
  if (!up.ok()) return up.error();
  Result<std::vector<Tensor>> down = bind("ffn_down", ffn_dim, dim);
  if (!down.ok()) return down.error();
  w.gate = std::move(gate).value();
  w.up = std::move(up).value();
  w.down = std::move(down).value();
  return w;
}

void MoeFeedForward(const MoeWeights& w, const float* x, size_t n, int32_t dim, int32_t ffn_dim,
                    float* out, ForwardScratch& s, ThreadPool& pool) {
  const size_t n_expert = w.gate.size();
  const size_t k = static_cast<size_t>(w.n_used);
  const size_t d = static_cast<size_t>(dim);
  const size_t f = static_cast<size_t>(ffn_dim);

  // Route: each token's K largest logits (lower expert first on ties) and a
  // softmax over just those.
  s.moe_logits.resize(n * n_expert);
  MatMul(w.router, x, n, s.moe_logits.data(), s, pool);
  s.moe_expert.resize(n * k);
  s.moe_weight.resize(n * k);
  std::vector<int32_t>& order = s.moe_order;
  order.resize(n_expert);
  for (size_t t = 0; t < n; ++t) {
    const float* logits = &s.moe_logits[t * n_expert];
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + static_cast<ptrdiff_t>(k), order.end(),
                      [logits](int32_t a, int32_t b) {
                        return logits[a] != logits[b] ? logits[a] > logits[b] : a < b;
                      });
    const float top = logits[order[0]];
    float sum = 0.0f;
    for (size_t j = 0; j < k; ++j) {
      s.moe_expert[t * k + j] = order[j];
      s.moe_weight[t * k + j] = std::exp(logits[order[j]] - top);
      sum += s.moe_weight[t * k + j];
    }
    for (size_t j = 0; j < k; ++j) s.moe_weight[t * k + j] /= sum;
  }

  // Each expert runs once over the tokens routed to it; its outputs land in
  // the (token, choice) rows of moe_y.
  s.moe_in.resize(n * d);
  s.moe_y.resize(n * k * d);
  s.hb.resize(n * f);
  s.hb2.resize(n * f);
  std::vector<int32_t>& picks = s.moe_picks;  // (token, choice) indices routed to the expert
  for (size_t e = 0; e < n_expert; ++e) {
    picks.clear();
    for (size_t i = 0; i < n * k; ++i) {
      if (s.moe_expert[i] == static_cast<int32_t>(e)) picks.push_back(static_cast<int32_t>(i));
    }
    if (picks.empty()) continue;
    const size_t m = picks.size();
    for (size_t r = 0; r < m; ++r) {
      std::copy_n(x + static_cast<size_t>(picks[r]) / k * d, d, &s.moe_in[r * d]);
    }
    MatMul(w.gate[e], s.moe_in.data(), m, s.hb.data(), s, pool);
    MatMul(w.up[e], s.moe_in.data(), m, s.hb2.data(), s, pool);
    kernels::SwiGlu(s.hb.data(), s.hb2.data(), m * f);
    MatMul(w.down[e], s.hb.data(), m, s.moe_in.data(), s, pool);
    for (size_t r = 0; r < m; ++r) {
      std::copy_n(&s.moe_in[r * d], d, &s.moe_y[static_cast<size_t>(picks[r]) * d]);
    }
  }

  // Combine in choice order, the same for every token whatever the batch.
  for (size_t t = 0; t < n; ++t) {
    float* o = out + t * d;
    std::fill_n(o, d, 0.0f);
    for (size_t j = 0; j < k; ++j) {
      const float wj = s.moe_weight[t * k + j];
      const float* y = &s.moe_y[(t * k + j) * d];
      for (size_t i = 0; i < d; ++i) o[i] += wj * y[i];
    }
  }
}

}  // namespace autan
