// `autan quantize`: a GGUF model rewritten with its weight matrices in a
// smaller type, chosen per tensor by a file-type plan (model/type_plan.h) as
// llama.cpp's quantizer chooses them, so that llama.cpp loads the result.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/result.h"
#include "core/thread_pool.h"
#include "formats/gguf.h"

namespace autan {

struct QuantizeOptions {
  std::string type = "q4_k_m";  // a TypePlanNames() entry
  // Quantized input tensors are refused unless this is set: quantizing them
  // again loses more than quantizing their float originals.
  bool allow_requantize = false;
  // Called after each tensor with the bytes of input done and in all.
  std::function<void(uint64_t done, uint64_t total)> progress;
};

struct QuantizeReport {
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;  // tensor data written
  int32_t tensors_quantized = 0;
  int32_t tensors_kept = 0;  // norms, the MoE router, and what no type fits
};

Result<QuantizeReport> QuantizeModel(const gguf::File& in, const std::string& out_path,
                                     const QuantizeOptions& options, ThreadPool& pool);

}  // namespace autan
