#include "runtime/energy_attribution.h"

#include <gtest/gtest.h>

#include <vector>

namespace autan {
namespace {

ModelConfig Tiny() {
  ModelConfig c;
  c.n_vocab = 100;
  c.dim = 8;
  c.n_layers = 2;
  c.n_heads = 2;
  c.n_kv_heads = 1;
  c.head_dim = 4;
  c.ffn_dim = 16;
  return c;
}

TEST(ModelEnergyProfile, CountsMatmulAndAttentionFlops) {
  ModelEnergyProfile p = ModelEnergyProfile::For(Tiny(), 1000, kernels::KvType::kF16);
  // Per layer: q 8x8, k and v 8x4 each, o 8x8, ffn 3 x 8x16 = 64+64+64+384 = 576;
  // two layers and an 8x100 head: 1952 weights, 3904 FLOPs.
  EXPECT_DOUBLE_EQ(p.matmul_flops_per_token, 3904.0);
  EXPECT_DOUBLE_EQ(p.attention_flops_per_position, 4.0 * 2 * 8);
  // f16: 2 bytes x 4 values, K and V, 2 layers.
  EXPECT_DOUBLE_EQ(p.kv_bytes_per_position, 32.0);
  // Three tokens at positions 5..7 attend to 6+7+8 positions.
  EXPECT_DOUBLE_EQ(p.Work(5, 3), 3 * 3904.0 + 21 * 64.0);
  EXPECT_DOUBLE_EQ(p.KvBytes(10), 320.0);
}

TEST(ModelEnergyProfile, SlidingWindowCapsAttention) {
  ModelConfig c = Tiny();
  c.sliding_window = 4;
  ModelEnergyProfile p = ModelEnergyProfile::For(c, 0, kernels::KvType::kF16);
  EXPECT_DOUBLE_EQ(p.Work(9, 2), 2 * 3904.0 + 8 * 64.0);
  EXPECT_DOUBLE_EQ(p.KvBytes(100), 4 * 32.0);
}

TEST(SplitJoules, InProportionToWork) {
  std::vector<double> work = {1, 3, 0, 6}, share(4);
  SplitJoules(5.0, work, share);
  EXPECT_DOUBLE_EQ(share[0], 0.5);
  EXPECT_DOUBLE_EQ(share[1], 1.5);
  EXPECT_DOUBLE_EQ(share[2], 0.0);
  EXPECT_DOUBLE_EQ(share[3], 3.0);
  std::vector<double> none = {0, 0};
  std::vector<double> even(2);
  SplitJoules(1.0, none, even);
  EXPECT_DOUBLE_EQ(even[0], 0.5);
}

}  // namespace
}  // namespace autan
