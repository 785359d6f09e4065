// MatMul throughput per weight type and batch size, one process: how much a
// batch of activation rows costs against the same rows run one at a time.
// Decode steps of a serving batch are exactly these products.
//
//   autan-bench-matmul [--benchmark_filter=Q4_0/...]
//
// Shapes are those of the 1b synth model's largest projections.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/matmul.h"
#include "kernels/quant.h"

namespace {

using autan::DType;

std::vector<uint8_t> RandomWeights(DType type, size_t rows, size_t cols) {
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> row(cols);
  const size_t row_bytes = *autan::RowBytes(type, cols);
  std::vector<uint8_t> w(rows * row_bytes);
  for (size_t r = 0; r < rows; ++r) {
    for (float& v : row) v = normal(rng);
    autan::kernels::QuantizeRow(type, row.data(), w.data() + r * row_bytes, cols);
  }
  return w;
}

void BM_MatMul(benchmark::State& state, DType type) {
  const size_t rows = static_cast<size_t>(state.range(0));
  const size_t cols = static_cast<size_t>(state.range(1));
  const size_t batch = static_cast<size_t>(state.range(2));
  const int threads = static_cast<int>(state.range(3));
  const std::vector<uint8_t> w = RandomWeights(type, rows, cols);
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(batch * cols);
  for (float& v : x) v = normal(rng);
  std::vector<float> y(batch * rows);
  std::vector<uint8_t> scratch;
  autan::ThreadPool pool(threads);
  for (auto _ : state) {
    autan::kernels::MatMul(type, w.data(), rows, cols, x.data(), batch, y.data(), pool, scratch);
    benchmark::DoNotOptimize(y.data());
  }
  // Rows of activations per second: compare with batch 1 to see what a
  // batch costs over one row.
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(w.size()),
                                              benchmark::Counter::kIsIterationInvariantRate,
                                              benchmark::Counter::kIs1000);
}

void Shapes(benchmark::internal::Benchmark* b) {
  for (int threads : {1, 2}) {
    for (int batch : {1, 2, 3, 4, 5, 6, 8, 12, 16, 32, 128}) b->Args({5632, 2048, batch, threads});
  }
  b->ArgNames({"rows", "cols", "batch", "threads"})->UseRealTime();
}

BENCHMARK_CAPTURE(BM_MatMul, Q4_0, DType::kQ4_0)->Apply(Shapes);
BENCHMARK_CAPTURE(BM_MatMul, Q8_0, DType::kQ8_0)->Apply(Shapes);
BENCHMARK_CAPTURE(BM_MatMul, Q4_K, DType::kQ4_K)->Apply(Shapes);
BENCHMARK_CAPTURE(BM_MatMul, Q6_K, DType::kQ6_K)->Apply(Shapes);
BENCHMARK_CAPTURE(BM_MatMul, F16, DType::kF16)->Apply(Shapes);
BENCHMARK_CAPTURE(BM_MatMul, BF16, DType::kBF16)->Apply(Shapes);

}  // namespace

BENCHMARK_MAIN();
