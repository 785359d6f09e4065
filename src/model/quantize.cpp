#include "model/quantize.h"

#include <atomic>
#include <string_view>
#include <vector>

#include "formats/gguf_writer.h"
#include "kernels/quant.h"
#include "model/type_plan.h"
#include "model/weights.h"

namespace autan {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Weight matrices are quantized; norms (vectors) and the mixture-of-experts
// router, which decides which experts run, keep their type (as llama.cpp).
bool Quantizable(const gguf::TensorInfo& t) {
  return t.dims.size() >= 2 && EndsWith(t.name, ".weight") &&
         t.name.find("ffn_gate_inp") == std::string::npos;
}

bool IsFloat(DType t) { return t == DType::kF32 || t == DType::kF16 || t == DType::kBF16; }

// A type whose blocks fit rows of `cols` values: K-quants fall back to the
// 32-value type of about the same size, as llama.cpp does, then to F16.
DType FitRows(DType want, uint64_t cols) {
  if (RowBytes(want, cols)) return want;
  DType fallback = DType::kF16;
  if (want == DType::kQ4_K) fallback = DType::kQ5_0;
  if (want == DType::kQ5_K) fallback = DType::kQ5_1;
  if (want == DType::kQ6_K) fallback = DType::kQ8_0;
  return RowBytes(fallback, cols) ? fallback : DType::kF16;
}

}  // namespace

Result<QuantizeReport> QuantizeModel(const gguf::File& in, const std::string& out_path,
                                     const QuantizeOptions& o, ThreadPool& pool) {
  const TypePlan* plan = FindTypePlan(o.type);
  if (plan == nullptr) return Fail("unknown type '%s'", o.type.c_str());
  Result<std::string_view> arch = in.GetString("general.architecture");
  if (!arch.ok()) return arch.error();
  const int32_t n_layers = ReadCountOr(in, std::string(*arch) + ".block_count", 0);

  gguf::Writer w;
  w.CopyMetadata(in);
  w.SetU32("general.file_type", plan->file_type);
  w.SetU32("general.quantization_version", 2);

  QuantizeReport report;
  for (const gguf::TensorInfo& t : in.tensors()) report.bytes_in += t.n_bytes;
  auto done = std::make_shared<std::atomic<uint64_t>>(0);
  for (const gguf::TensorInfo& t : in.tensors()) {
    const DType target =
        Quantizable(t) ? FitRows(PlannedType(*plan, t.name, n_layers), t.dims[0]) : t.type;
    if (target == t.type) {
      ++report.tensors_kept;
      report.bytes_out += t.n_bytes;
      w.AddTensor(t.name, t.type, t.dims,
                  [&t, &o, done, total = report.bytes_in](std::span<uint8_t> out) {
                    std::copy(t.data, t.data + t.n_bytes, out.begin());
                    *done += t.n_bytes;
                    if (o.progress) o.progress(*done, total);
                  });
      continue;
    }
    if (!IsFloat(t.type) && !o.allow_requantize) {
      return Fail(
          "tensor '%s' is already quantized (%s); quantizing it again loses more than "
          "quantizing its original (allow it with --allow-requantize)",
          t.name.c_str(), std::string(Info(t.type).name).c_str());
    }
    if (!kernels::IsComputeType(t.type) || !kernels::CanQuantize(target)) {
      return Fail("tensor '%s': cannot convert %s to %s", t.name.c_str(),
                  std::string(Info(t.type).name).c_str(), std::string(Info(target).name).c_str());
    }
    ++report.tensors_quantized;
    const uint64_t cols = t.dims[0];
    const uint64_t rows = t.n_elements / cols;
    const size_t in_row = *RowBytes(t.type, cols);
    const size_t out_row = *RowBytes(target, cols);
    report.bytes_out += rows * out_row;
    w.AddTensor(t.name, target, t.dims,
                [&t, &o, &pool, done, total = report.bytes_in, target, cols, rows, in_row,
                 out_row](std::span<uint8_t> out) {
                  pool.ParallelFor(rows, [&](size_t begin, size_t end) {
                    std::vector<float> row(cols);
                    for (size_t r = begin; r < end; ++r) {
                      kernels::DequantizeRow(t.type, t.data + r * in_row, row.data(), cols);
                      kernels::QuantizeRow(target, row.data(), out.data() + r * out_row, cols);
                    }
                  });
                  *done += t.n_bytes;
                  if (o.progress) o.progress(*done, total);
                });
  }
  AUTAN_TRY(w.Write(out_path));
  return report;
}

}  // namespace autan
