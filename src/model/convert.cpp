#include "model/convert.h"

#include <cstring>
#include <memory>
#include <vector>

#include "core/fp16.h"
#include "formats/checkpoint.h"
#include "formats/gguf_writer.h"
#include "model/checkpoint_vocab.h"
#include "model/vocab_gguf.h"

namespace autan {
namespace {

// One output tensor: its sources (several for stacked experts, in order).
struct Planned {
  std::string name;
  std::vector<const gguf::TensorInfo*> parts;
  std::vector<uint64_t> dims;
  DType type;
};

float ReadValue(DType t, const uint8_t* p, size_t i) {
  if (t == DType::kF32) {
    float v;
    std::memcpy(&v, p + 4 * i, 4);
    return v;
  }
  uint16_t b;
  std::memcpy(&b, p + 2 * i, 2);
  return t == DType::kF16 ? Fp16ToFp32(b) : Bf16ToFp32(b);
}

// Copies `n` values of type `from` at `src` to `dst` as `to` (bytes as they
// are when the types agree, so kept tensors stay bit for bit).
void ConvertValues(DType from, const uint8_t* src, DType to, uint8_t* dst, size_t n) {
  if (from == to) {
    std::memcpy(dst, src, n * Info(to).type_size);
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    const float v = ReadValue(from, src, i);
    if (to == DType::kF32) {
      std::memcpy(dst + 4 * i, &v, 4);
    } else {
      const uint16_t b = to == DType::kF16 ? Fp32ToFp16(v) : Fp32ToBf16(v);
      std::memcpy(dst + 2 * i, &b, 2);
    }
  }
}

// The output tensors in the order llama.cpp's converter writes them.
Result<std::vector<Planned>> Plan(const gguf::File& view, const std::string& dir,
                                  const ConvertOptions& o) {
  Result<uint64_t> n_layers = view.GetUInt("llama.block_count");
  if (!n_layers.ok()) return n_layers.error();
  const uint64_t n_expert = view.FindUInt("llama.expert_count").value_or(0);
  std::vector<Planned> out;
  size_t used = 0;
  auto one = [&](const std::string& name) -> Status {
    const gguf::TensorInfo* t = view.FindTensor(name);
    if (t == nullptr) return {};  // an optional tensor (a tied LM head)
    ++used;
    // Vectors and the router stay F32, as llama.cpp's converter keeps them.
    const bool keep_f32 = t->dims.size() == 1 || name.find("ffn_gate_inp") != std::string::npos;
    const DType type = keep_f32 ? DType::kF32 : o.type.value_or(t->type);
    out.push_back({name, {t}, t->dims, type});
    return {};
  };
  auto experts = [&](uint64_t layer, const char* what) -> Status {
    const std::string b = "blk." + std::to_string(layer) + ".";
    Planned p{b + what + "_exps.weight", {}, {}, DType::kF32};
    for (uint64_t e = 0; e < n_expert; ++e) {
      const std::string name = b + what + "." + std::to_string(e) + ".weight";
      const gguf::TensorInfo* t = view.FindTensor(name);
      if (t == nullptr) return Fail("%s: missing expert tensor '%s'", dir.c_str(), name.c_str());
      if (!p.parts.empty() && t->type != p.parts[0]->type && !o.type) {
        return Fail(
            "%s: layer %llu, expert %llu: tensor '%s' is %s but expert 0's is %s; one "
            "stacked GGUF tensor holds one type (pass --type to convert them all)",
            dir.c_str(), static_cast<unsigned long long>(layer), static_cast<unsigned long long>(e),
            name.c_str(), std::string(Info(t->type).name).c_str(),
            std::string(Info(p.parts[0]->type).name).c_str());
      }
      p.parts.push_back(t);
      ++used;
    }
    p.dims = {p.parts[0]->dims[0], p.parts[0]->dims[1], n_expert};
    p.type = o.type.value_or(p.parts[0]->type);
    out.push_back(std::move(p));
    return {};
  };
  AUTAN_TRY(one("token_embd.weight"));
  for (uint64_t i = 0; i < *n_layers; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    for (const char* w : {"attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm"}) {
      AUTAN_TRY(one(b + w + ".weight"));
    }
    if (n_expert > 0) {
      AUTAN_TRY(one(b + "ffn_gate_inp.weight"));
      for (const char* w : {"ffn_gate", "ffn_up", "ffn_down"}) AUTAN_TRY(experts(i, w));
      continue;
    }
    for (const char* w : {"ffn_gate", "ffn_up", "ffn_down"}) AUTAN_TRY(one(b + w + ".weight"));
  }
  AUTAN_TRY(one("output_norm.weight"));
  AUTAN_TRY(one("output.weight"));
  if (used != view.tensors().size()) {
    return Fail("%s: %zu of the %zu tensors have no place in the GGUF file", dir.c_str(),
                view.tensors().size() - used, view.tensors().size());
  }
  return out;
}

// The vocabulary, as many tokens as the embeddings have rows (CheckpointVocab
// pads or refuses).
Status AddTokenizer(const CheckpointView& view, const std::string& dir, gguf::Writer& w) {
  Result<VocabSpec> spec = CheckpointVocab(view, dir);
  if (!spec.ok()) return spec.error();
  auto metadata = VocabGgufMetadata(*spec);
  if (!metadata.ok()) {
    return Fail("%s: %s", view.tokenizer_path.c_str(), metadata.error().message.c_str());
  }
  for (auto& [key, value] : *metadata) w.Set(key, std::move(value));
  return {};
}

// llama_ftype: all F32, mostly F16, mostly BF16, as the matrices are.
uint32_t FileType(const std::vector<Planned>& plan) {
  for (const Planned& p : plan) {
    if (p.type == DType::kF16) return 1;
    if (p.type == DType::kBF16) return 32;
  }
  return 0;
}

}  // namespace

Result<ConvertReport> ConvertCheckpoint(const std::string& dir, const std::string& out,
                                        const ConvertOptions& o) {
  if (o.type && *o.type != DType::kF32 && *o.type != DType::kF16 && *o.type != DType::kBF16) {
    return Fail("--type: convert writes f32, f16 or bf16 (use autan quantize afterwards)");
  }
  if (!IsCheckpointFolder(dir)) {
    return Fail("%s: not a model folder (no params.json or config.json)", dir.c_str());
  }
  Result<CheckpointView> view = OpenCheckpoint(dir);
  if (!view.ok()) return view.error();
  const gguf::File& file = view->file;
  Result<std::vector<Planned>> plan = Plan(file, dir, o);
  if (!plan.ok()) return plan.error();

  gguf::Writer w;
  for (const auto& [key, value] : file.metadata()) w.Set(key, value);
  w.SetU32("general.file_type", FileType(*plan));
  AUTAN_TRY(AddTokenizer(*view, dir, w));

  ConvertReport report;
  for (size_t i = 0; i < plan->size(); ++i) {
    const Planned& p = (*plan)[i];
    w.AddTensor(p.name, p.type, p.dims, [&p, &o, i, n = plan->size()](std::span<uint8_t> dst) {
      if (o.progress) o.progress(i, n, p.name, p.type);
      const size_t per_part = dst.size() / p.parts.size();
      for (size_t k = 0; k < p.parts.size(); ++k) {
        ConvertValues(p.parts[k]->type, p.parts[k]->data, p.type, dst.data() + k * per_part,
                      p.parts[k]->n_elements);
      }
    });
    report.n_bytes +=
        static_cast<uint64_t>(Info(p.type).type_size) * (p.parts[0]->n_elements * p.parts.size());
  }
  report.n_tensors = plan->size();
  AUTAN_TRY(w.Write(out));
  return report;
}

}  // namespace autan
