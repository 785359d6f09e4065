#include "model/vocab_gguf.h"

#include <cstdint>
#include <string>
#include <utility>

namespace autan {

namespace {

Status ReadId(const gguf::File& file, const char* key, int32_t& id) {
  const gguf::Value* value = file.Find(key);
  if (value == nullptr) return {};
  const std::optional<uint64_t> raw = value->AsUInt();
  if (!raw || *raw > static_cast<uint64_t>(INT32_MAX)) {
    return Fail("%s: expected a token id, got %s", key, gguf::ValueToString(*value).c_str());
  }
  id = static_cast<int32_t>(*raw);
  return {};
}

Status ReadFlag(const gguf::File& file, const char* key, std::optional<bool>& flag) {
  if (file.Find(key) == nullptr) return {};
  Result<bool> value = file.GetBool(key);
  if (!value.ok()) return value.error();
  flag = *value;
  return {};
}

Status CheckLength(const char* key, size_t length, size_t n_tokens) {
  if (length == 0 || length == n_tokens) return {};
  return Fail("%s has %zu entries but tokenizer.ggml.tokens has %zu", key, length, n_tokens);
}

}  // namespace

Result<VocabSpec> VocabSpecFromGguf(const gguf::File& file) {
  VocabSpec spec;
  Result<std::string_view> model = file.GetString("tokenizer.ggml.model");
  if (!model.ok()) return model.error();
  spec.model = std::string(*model);
  if (file.Find("tokenizer.ggml.pre") != nullptr) {
    Result<std::string_view> pre = file.GetString("tokenizer.ggml.pre");
    if (!pre.ok()) return pre.error();
    spec.pre = std::string(*pre);
  }

  Result<std::vector<std::string>> tokens = file.GetStringArray("tokenizer.ggml.tokens");
  if (!tokens.ok()) return tokens.error();
  spec.tokens = std::move(tokens).value();
  if (file.Find("tokenizer.ggml.scores") != nullptr) {
    Result<std::vector<float>> scores = file.GetFloatArray("tokenizer.ggml.scores");
    if (!scores.ok()) return scores.error();
    spec.scores = std::move(scores).value();
    AUTAN_TRY(CheckLength("tokenizer.ggml.scores", spec.scores.size(), spec.tokens.size()));
  }
  if (file.Find("tokenizer.ggml.token_type") != nullptr) {
    Result<std::vector<int32_t>> types = file.GetIntArray("tokenizer.ggml.token_type");
    if (!types.ok()) return types.error();
    spec.token_types = std::move(types).value();
    AUTAN_TRY(
        CheckLength("tokenizer.ggml.token_type", spec.token_types.size(), spec.tokens.size()));
  }
  if (spec.model == "gpt2") {
    // Byte-level BPE cannot work without its merges (llama.cpp refuses too).
    Result<std::vector<std::string>> merges = file.GetStringArray("tokenizer.ggml.merges");
    if (!merges.ok()) return merges.error();
    spec.merges = std::move(merges).value();
  }

  AUTAN_TRY(ReadId(file, "tokenizer.ggml.bos_token_id", spec.bos_id));
  AUTAN_TRY(ReadId(file, "tokenizer.ggml.eos_token_id", spec.eos_id));
  AUTAN_TRY(ReadId(file, "tokenizer.ggml.unknown_token_id", spec.unk_id));
  AUTAN_TRY(ReadId(file, "tokenizer.ggml.padding_token_id", spec.pad_id));
  AUTAN_TRY(ReadId(file, "tokenizer.ggml.eot_token_id", spec.eot_id));
  AUTAN_TRY(ReadId(file, "tokenizer.ggml.eom_token_id", spec.eom_id));
  AUTAN_TRY(ReadId(file, "tokenizer.ggml.fim_pre_token_id", spec.fim_pre_id));
  AUTAN_TRY(ReadId(file, "tokenizer.ggml.fim_suf_token_id", spec.fim_suf_id));
  AUTAN_TRY(ReadId(file, "tokenizer.ggml.fim_mid_token_id", spec.fim_mid_id));
  AUTAN_TRY(ReadId(file, "tokenizer.ggml.fim_pad_token_id", spec.fim_pad_id));
  AUTAN_TRY(ReadId(file, "tokenizer.ggml.fim_rep_token_id", spec.fim_rep_id));
  AUTAN_TRY(ReadId(file, "tokenizer.ggml.fim_sep_token_id", spec.fim_sep_id));
  // Older names of the first three FIM ids, read by llama.cpp after the new ones.
  AUTAN_TRY(ReadId(file, "tokenizer.ggml.prefix_token_id", spec.fim_pre_id));
  AUTAN_TRY(ReadId(file, "tokenizer.ggml.suffix_token_id", spec.fim_suf_id));
  AUTAN_TRY(ReadId(file, "tokenizer.ggml.middle_token_id", spec.fim_mid_id));

  AUTAN_TRY(ReadFlag(file, "tokenizer.ggml.add_bos_token", spec.add_bos));
  AUTAN_TRY(ReadFlag(file, "tokenizer.ggml.add_eos_token", spec.add_eos));
  AUTAN_TRY(ReadFlag(file, "tokenizer.ggml.add_space_prefix", spec.add_space_prefix));
  return spec;
}

Result<Tokenizer> TokenizerFromGguf(const gguf::File& file) {
  Result<VocabSpec> spec = VocabSpecFromGguf(file);
  if (!spec.ok()) return spec.error();
  return Tokenizer::Create(std::move(spec).value());
}

}  // namespace autan
