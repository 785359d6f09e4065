#include "model/type_plan.h"

#include <cstdlib>

namespace autan {
namespace {

constexpr TypePlan kPlans[] = {
    {"f32", DType::kF32, DType::kF32, DType::kF32, 0},
    {"f16", DType::kF16, DType::kF16, DType::kF16, 1},
    {"bf16", DType::kBF16, DType::kBF16, DType::kBF16, 32},
    {"q8_0", DType::kQ8_0, DType::kQ8_0, DType::kQ8_0, 7},
    {"q4_0", DType::kQ4_0, DType::kQ4_0, DType::kQ4_0, 2},
    {"q4_1", DType::kQ4_1, DType::kQ4_1, DType::kQ4_1, 3},
    {"q5_0", DType::kQ5_0, DType::kQ5_0, DType::kQ5_0, 8},
    {"q5_1", DType::kQ5_1, DType::kQ5_1, DType::kQ5_1, 9},
    {"q4_k", DType::kQ4_K, DType::kQ4_K, DType::kQ4_K, 14},
    {"q5_k", DType::kQ5_K, DType::kQ5_K, DType::kQ5_K, 16},
    {"q6_k", DType::kQ6_K, DType::kQ6_K, DType::kQ6_K, 18},
    {"q4_k_m", DType::kQ4_K, DType::kQ6_K, DType::kQ6_K, 15},
    {"q5_k_m", DType::kQ5_K, DType::kQ6_K, DType::kQ6_K, 17},
};

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The layer of "blk.N.<...>", or -1.
int32_t LayerOf(const std::string& name) {
  if (name.rfind("blk.", 0) != 0) return -1;
  return static_cast<int32_t>(std::strtol(name.c_str() + 4, nullptr, 10));
}

}  // namespace

const TypePlan* FindTypePlan(std::string_view name) {
  for (const TypePlan& p : kPlans) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::vector<std::string> TypePlanNames() {
  std::vector<std::string> names;
  for (const TypePlan& p : kPlans) names.emplace_back(p.name);
  return names;
}

bool UsesMoreBits(int32_t layer, int32_t n_layers) {
  return layer < n_layers / 8 || layer >= 7 * n_layers / 8 || (layer - n_layers / 8) % 3 == 2;
}

DType PlannedType(const TypePlan& plan, const std::string& name, int32_t n_layers) {
  if (name == "output.weight") return plan.output;
  const int32_t layer = LayerOf(name);
  const bool more_bits = layer >= 0 && UsesMoreBits(layer, n_layers);
  if (more_bits && (EndsWith(name, ".attn_v.weight") || EndsWith(name, ".ffn_down.weight") ||
                    EndsWith(name, ".ffn_down_exps.weight"))) {
    return plan.high;
  }
  return plan.base;
}

}  // namespace autan
