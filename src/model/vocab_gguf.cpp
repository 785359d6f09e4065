#include "model/vocab_gguf.h"

#include <cstdint>
#include <string>
#include <utility>

#include "tokenizer/tekken_writer.h"

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

Result<std::vector<std::pair<std::string, gguf::Value>>> VocabGgufMetadata(const VocabSpec& given) {
  using gguf::Value;
  VocabSpec spec = given;
  if (given.model == "tekken") {
    Result<VocabSpec> bpe = TekkenToByteLevelBpe(given);
    if (!bpe.ok()) return bpe.error();
    spec = std::move(bpe).value();
  } else if (given.model == "gpt2" && !given.pre_pattern.empty()) {
    return Fail(
        "a byte-level vocabulary with its own pre-tokenizer expression has no GGUF form "
        "(tokenizer.ggml.pre names one of llama.cpp's)");
  } else if (given.model != "llama" && given.model != "gpt2") {
    return Fail("unsupported tokenizer model '%s'", given.model.c_str());
  }
  const size_t n = spec.tokens.size();
  std::vector<std::pair<std::string, Value>> m;
  m.emplace_back("tokenizer.ggml.model", Value::String(spec.model));
  m.emplace_back("tokenizer.ggml.pre", Value::String(spec.model == "llama" ? "default" : spec.pre));
  m.emplace_back("tokenizer.ggml.tokens", Value::StringArray(spec.tokens));
  if (spec.model == "llama") {
    std::vector<float> scores = spec.scores;
    scores.resize(n, 0.0f);
    m.emplace_back("tokenizer.ggml.scores", Value::F32Array(scores));
  }
  std::vector<int32_t> types = spec.token_types;
  types.resize(n, static_cast<int32_t>(TokenType::kNormal));
  m.emplace_back("tokenizer.ggml.token_type", Value::I32Array(types));
  if (spec.model == "gpt2")
    m.emplace_back("tokenizer.ggml.merges", Value::StringArray(spec.merges));
  const auto id = [&](const char* key, int32_t v) {
    if (v >= 0) m.emplace_back(key, Value::U32(static_cast<uint32_t>(v)));
  };
  id("tokenizer.ggml.bos_token_id", spec.bos_id);
  id("tokenizer.ggml.eos_token_id", spec.eos_id);
  id("tokenizer.ggml.unknown_token_id", spec.unk_id);
  id("tokenizer.ggml.padding_token_id", spec.pad_id);
  if (spec.add_bos) m.emplace_back("tokenizer.ggml.add_bos_token", Value::Bool(*spec.add_bos));
  if (spec.add_eos) m.emplace_back("tokenizer.ggml.add_eos_token", Value::Bool(*spec.add_eos));
  if (spec.add_space_prefix == false) {
    m.emplace_back("tokenizer.ggml.add_space_prefix", Value::Bool(false));
  }
  return m;
}

}  // namespace autan
