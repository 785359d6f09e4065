#include "tokenizer/tekken_writer.h"

#include <nlohmann/json.hpp>
#include <unordered_map>
#include <vector>

#include "core/base64.h"
#include "tokenizer/unicode.h"

namespace autan {
namespace {

// Mistral's Tekken pre-tokenizer expression (what tekken.json files carry).
constexpr std::string_view kTekkenPattern =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|)"
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}|)"
    R"( ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// The codepoints of a byte-level token, each as its UTF-8 text.
std::vector<std::string> Symbols(std::string_view token) {
  std::vector<std::string> out;
  size_t offset = 0;
  while (offset < token.size()) {
    const size_t begin = offset;
    unicode::DecodeOne(token, offset);
    out.emplace_back(token.substr(begin, offset - begin));
  }
  return out;
}

// The bytes a byte-level token stands for; false when it is not byte-level.
bool BytesOf(std::string_view token, std::string& bytes) {
  bytes.clear();
  size_t offset = 0;
  while (offset < token.size()) {
    const int b = unicode::CodepointToByte(unicode::DecodeOne(token, offset));
    if (b < 0) return false;
    bytes.push_back(static_cast<char>(b));
  }
  return true;
}

}  // namespace

Result<VocabSpec> TekkenToByteLevelBpe(const VocabSpec& tekken) {
  if (tekken.model != "tekken") return Fail("not a Tekken vocabulary ('%s')", tekken.model.c_str());
  const int32_t first = tekken.num_special_tokens;
  const auto n = static_cast<int32_t>(tekken.tokens.size());
  if (first < 0 || first > n) return Fail("%d special tokens for %d tokens", first, n);
  std::unordered_map<std::string_view, int32_t> rank;
  rank.reserve(tekken.tokens.size());
  for (int32_t id = first; id < n; ++id) rank.emplace(tekken.tokens[id], id);

  VocabSpec out;
  out.model = "gpt2";
  out.pre = "tekken";
  out.tokens = tekken.tokens;
  out.token_types.assign(tekken.tokens.size(), static_cast<int32_t>(TokenType::kNormal));
  for (int32_t id = 0; id < first; ++id) {
    out.token_types[id] = static_cast<int32_t>(TokenType::kControl);
  }
  // tiktoken's merge order is the rank of the merged token: replay its byte
  // pair encoding on each token with only the lower ranks allowed.
  std::string joined;
  for (int32_t id = first; id < n; ++id) {
    std::vector<std::string> parts = Symbols(tekken.tokens[id]);
    if (parts.size() < 2) continue;
    while (parts.size() > 2) {
      int32_t best = id;
      size_t at = 0;
      for (size_t i = 0; i + 1 < parts.size(); ++i) {
        joined = parts[i] + parts[i + 1];
        const auto it = rank.find(joined);
        if (it != rank.end() && it->second < best) best = it->second, at = i;
      }
      if (best == id) break;
      parts[at] += parts[at + 1];
      parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(at) + 1);
    }
    // A token no two lower ranks make is never produced by merging; it has no merge.
    if (parts.size() == 2) out.merges.push_back(parts[0] + " " + parts[1]);
  }
  out.bos_id = tekken.bos_id;
  out.eos_id = tekken.eos_id;
  out.unk_id = tekken.unk_id;
  out.pad_id = tekken.pad_id;
  out.add_bos = tekken.add_bos.value_or(true);
  out.add_eos = tekken.add_eos.value_or(false);
  return out;
}

Result<std::string> SerializeTekken(const VocabSpec& spec) {
  int32_t n_special = spec.num_special_tokens;
  if (spec.model == "gpt2") {
    n_special = 0;
    while (static_cast<size_t>(n_special) < spec.token_types.size() &&
           spec.token_types[n_special] == static_cast<int32_t>(TokenType::kControl)) {
      ++n_special;
    }
  } else if (spec.model != "tekken") {
    return Fail("a '%s' vocabulary cannot be written as tekken.json", spec.model.c_str());
  }
  const auto n = static_cast<int32_t>(spec.tokens.size());
  if (n_special < 3 || n - n_special < 256) {
    return Fail(
        "tekken.json needs at least 3 special tokens then the 256 bytes; the vocabulary "
        "has %d special tokens of %d",
        n_special, n);
  }
  using Json = nlohmann::ordered_json;
  Json special = Json::array();
  for (int32_t id = 0; id < n_special; ++id) {
    special.push_back({{"rank", id}, {"token_str", spec.tokens[id]}, {"is_control", true}});
  }
  Json vocab = Json::array();
  std::string bytes;
  for (int32_t id = n_special; id < n; ++id) {
    if (!BytesOf(spec.tokens[id], bytes)) {
      return Fail("token %d ('%s') is not spelled in the byte-level alphabet", id,
                  spec.tokens[id].c_str());
    }
    vocab.push_back(
        {{"rank", id - n_special}, {"token_bytes", Base64(bytes)}, {"token_str", nullptr}});
  }
  const Json root = {
      {"config",
       {{"pattern", spec.pre_pattern.empty() ? std::string(kTekkenPattern) : spec.pre_pattern},
        {"num_vocab_tokens", n - n_special},
        {"default_vocab_size", n},
        {"default_num_special_tokens", n_special},
        // The instruct version the vocabulary came with, else v3 (NeMo's, the first Tekken).
        {"version", spec.mistral_instruct.empty() ? "v3" : spec.mistral_instruct}}},
      {"vocab", std::move(vocab)},
      {"special_tokens", std::move(special)}};
  return root.dump() + "\n";
}

}  // namespace autan
