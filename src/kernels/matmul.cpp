#include "kernels/matmul.h"

#include <algorithm>
#include <atomic>
#include <optional>

#include "core/check.h"
#include "kernels/quant.h"

#if defined(__x86_64__)
#include "kernels/x86/dispatch.h"
#endif

namespace autan::kernels {
namespace {

// Output rows handled together by the scalar kernels, so a tile of weight
// rows stays in cache while every activation row passes over it.
constexpr size_t kRowTile = 16;
// Threads get whole multiples of this many rows, so the SIMD kernels' row
// tiles are rarely cut, in about this many chunks each.
constexpr size_t kRowGrain = 16;
constexpr size_t kChunksPerThread = 2;
// Batches up to this many rows run as separate matrix-vector products.
constexpr size_t kMatVecUpTo = 3;
// Converted activation rows start on a cache line.
constexpr size_t kAlign = 64;

// The scalar reference for type W: rows in VecDotType(W) layout, each
// starting on a cache line.
size_t AlignUp(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

template <DType W>
size_t ScalarPackedBytes(size_t cols, size_t batch) {
  return batch * AlignUp(*RowBytes(VecDotType(W), cols));
}

template <DType W>
void ScalarPack(const float* x, size_t cols, size_t /*batch*/, size_t begin, size_t end,
                uint8_t* dst) {
  const size_t stride = ScalarPackedBytes<W>(cols, 1);
  for (size_t b = begin; b < end; ++b)
    QuantizeRow(VecDotType(W), x + b * cols, dst + b * stride, cols);
}

template <DType W>
void ScalarGemm(const GemmArgs& a) {
  for (size_t r0 = a.row_begin; r0 < a.row_end; r0 += kRowTile) {
    const size_t r1 = std::min(a.row_end, r0 + kRowTile);
    for (size_t b = 0; b < a.batch; ++b) {
      const uint8_t* x_row = a.x + b * a.x_stride;
      for (size_t r = r0; r < r1; ++r) {
        a.y[b * a.y_stride + r] = VecDot(W, a.cols, a.w + r * a.w_stride, x_row);
      }
    }
  }
}

template <DType W>
TypeKernels ScalarEntry() {
  if constexpr (W == DType::kF32) {
    return {ScalarPackedBytes<W>, nullptr, ScalarGemm<W>};  // reads the f32 row itself
  } else {
    return {ScalarPackedBytes<W>, ScalarPack<W>, ScalarGemm<W>};
  }
}

MatMulKernels MakeScalarKernels() {
  MatMulKernels k;
  k.name = "scalar";
  k.For(DType::kF32) = ScalarEntry<DType::kF32>();
  k.For(DType::kF16) = ScalarEntry<DType::kF16>();
  k.For(DType::kBF16) = ScalarEntry<DType::kBF16>();
  k.For(DType::kQ4_0) = ScalarEntry<DType::kQ4_0>();
  k.For(DType::kQ4_1) = ScalarEntry<DType::kQ4_1>();
  k.For(DType::kQ5_0) = ScalarEntry<DType::kQ5_0>();
  k.For(DType::kQ5_1) = ScalarEntry<DType::kQ5_1>();
  k.For(DType::kQ8_0) = ScalarEntry<DType::kQ8_0>();
  k.For(DType::kQ4_K) = ScalarEntry<DType::kQ4_K>();
  k.For(DType::kQ5_K) = ScalarEntry<DType::kQ5_K>();
  k.For(DType::kQ6_K) = ScalarEntry<DType::kQ6_K>();
  return k;
}

const MatMulKernels* ChooseKernels() {
#if defined(__x86_64__)
  if (const MatMulKernels* best = x86::BestKernels()) return best;
#endif
  return &ScalarKernels();
}

}  // namespace

const MatMulKernels& ScalarKernels() {
  static const MatMulKernels kernels = MakeScalarKernels();
  return kernels;
}

TypeKernels ScalarTypeKernels(DType w) {
  AUTAN_CHECK(IsComputeType(w));
  return ScalarKernels().For(w);
}

const MatMulKernels& DefaultKernels() {
  static const MatMulKernels* const kernels = ChooseKernels();
  return *kernels;
}

std::vector<const MatMulKernels*> SupportedKernels() {
  std::vector<const MatMulKernels*> sets = {&ScalarKernels()};
#if defined(__x86_64__)
  for (const MatMulKernels* k : x86::SupportedKernels()) sets.push_back(k);
#endif
  return sets;
}

void MatMul(DType w, const void* weights, size_t rows, size_t cols, const float* x, size_t batch,
            float* y, ThreadPool& pool, std::vector<uint8_t>& scratch) {
  MatMulWith(DefaultKernels(), w, weights, rows, cols, x, batch, y, pool, scratch);
}

void MatMulWith(const MatMulKernels& k, DType w, const void* weights, size_t rows, size_t cols,
                const float* x, size_t batch, float* y, ThreadPool& pool,
                std::vector<uint8_t>& scratch) {
  AUTAN_CHECK(IsComputeType(w));
  const TypeKernels& tk = k.For(w);
  AUTAN_CHECK(tk.gemm != nullptr);
  const std::optional<size_t> w_row_bytes = RowBytes(w, cols);
  AUTAN_CHECK(w_row_bytes.has_value() && RowBytes(VecDotType(w), cols).has_value());
  if (rows == 0 || batch == 0) return;
  // A tile computes a whole group of activation rows however few are real,
  // and costs about four matrix-vector passes: for two or three rows (a
  // few streams decoding together) separate passes are faster. Every kernel
  // gives the same bits per element either way, so results do not change.
  if (batch > 1 && batch <= kMatVecUpTo) {
    for (size_t b = 0; b < batch; ++b) {
      MatMulWith(k, w, weights, rows, cols, x + b * cols, 1, y + b * rows, pool, scratch);
    }
    return;
  }

  // Activations are converted once per call, not once per weight row.
  const uint8_t* xp = reinterpret_cast<const uint8_t*>(x);
  size_t x_stride = cols * sizeof(float);
  if (tk.pack != nullptr) {
    x_stride = tk.packed_bytes(cols, 1);
    const size_t bytes = tk.packed_bytes(cols, batch);
    if (scratch.size() < bytes + kAlign) scratch.resize(bytes + kAlign);
    const uintptr_t base = reinterpret_cast<uintptr_t>(scratch.data());
    uint8_t* dst = scratch.data() + (AlignUp(base) - base);
    if (batch == 1) {
      tk.pack(x, cols, 1, 0, 1, dst);  // not worth waking the pool
    } else {
      pool.ParallelFor((batch + kPackGroup - 1) / kPackGroup, [&](size_t begin, size_t end) {
        tk.pack(x, cols, batch, begin * kPackGroup, std::min(batch, end * kPackGroup), dst);
      });
    }
    xp = dst;
  }

  const GemmArgs base{.w = static_cast<const uint8_t*>(weights),
                      .w_stride = *w_row_bytes,
                      .x = xp,
                      .x_stride = x_stride,
                      .cols = cols,
                      .batch = batch,
                      .row_begin = 0,
                      .row_end = rows,
                      .y = y,
                      .y_stride = rows};
  // Rows go out in chunks, first come first served, so a thread slowed down
  // (say by another process on its core) takes fewer of them. Which thread
  // computes a row never changes its value.
  const size_t grains = (rows + kRowGrain - 1) / kRowGrain;
  const size_t chunks = std::min(grains, static_cast<size_t>(pool.size()) * kChunksPerThread);
  std::atomic<size_t> next{0};
  pool.Run([&](int, int) {
    for (size_t c = next.fetch_add(1, std::memory_order_relaxed); c < chunks;
         c = next.fetch_add(1, std::memory_order_relaxed)) {
      GemmArgs a = base;
      a.row_begin = grains * c / chunks * kRowGrain;
      a.row_end = std::min(rows, grains * (c + 1) / chunks * kRowGrain);
      tk.gemm(a);
    }
  });
}

}  // namespace autan::kernels
