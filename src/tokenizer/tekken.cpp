#include "tokenizer/tekken.h"

#include <cstdint>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <unordered_set>
#include <utility>

#include "tokenizer/unicode.h"

namespace autan {

namespace {

using nlohmann::json;

// mistral-common's Tekkenizer.DEPRECATED_SPECIAL_TOKENS: the special tokens of
// files written before special_tokens was a field (up to v7).
constexpr std::string_view kDeprecatedSpecialTokens[] = {
    "<unk>",
    "<s>",
    "</s>",
    "[INST]",
    "[/INST]",
    "[AVAILABLE_TOOLS]",
    "[/AVAILABLE_TOOLS]",
    "[TOOL_RESULTS]",
    "[/TOOL_RESULTS]",
    "[TOOL_CALLS]",
    "[IMG]",
    "<pad>",
    "[IMG_BREAK]",
    "[IMG_END]",
    "[PREFIX]",
    "[MIDDLE]",
    "[SUFFIX]",
    "[SYSTEM_PROMPT]",
    "[/SYSTEM_PROMPT]",
    "[TOOL_CONTENT]",
};

// Versions mistral-common knows, in order; later ones require special_tokens.
constexpr std::string_view kVersions[] = {"v1", "v2", "v3", "v7", "v11", "v13"};

int VersionIndex(std::string_view version) {
  for (size_t i = 0; i < std::size(kVersions); ++i) {
    if (kVersions[i] == version) return static_cast<int>(i);
  }
  return -1;
}

int SextetOf(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Reads an integer field of `object`, naming `where` in errors.
Result<int64_t> IntField(const json& object, const char* key, const std::string& where) {
  const auto it = object.find(key);
  if (it == object.end()) return Fail("%s.%s: missing", where.c_str(), key);
  if (!it->is_number_integer()) return Fail("%s.%s: not an integer", where.c_str(), key);
  return it->get<int64_t>();
}

Result<std::string> StringField(const json& object, const char* key, const std::string& where) {
  const auto it = object.find(key);
  if (it == object.end()) return Fail("%s.%s: missing", where.c_str(), key);
  if (!it->is_string()) return Fail("%s.%s: not a string", where.c_str(), key);
  return it->get<std::string>();
}

struct TekkenConfig {
  std::string pattern;
  std::string version;
  int64_t vocab_size = 0;
  int64_t num_special = 0;
};

Result<TekkenConfig> ReadConfig(const json& root) {
  const auto it = root.find("config");
  if (it == root.end()) return Fail("config: missing");
  if (!it->is_object()) return Fail("config: not an object");
  TekkenConfig config;
  auto pattern = StringField(*it, "pattern", "config");
  if (!pattern.ok()) return pattern.error();
  config.pattern = std::move(*pattern);
  auto version = StringField(*it, "version", "config");
  if (!version.ok()) return version.error();
  config.version = std::move(*version);
  if (VersionIndex(config.version) < 0) {
    return Fail("config.version: unknown version '%s'", config.version.c_str());
  }
  auto vocab_size = IntField(*it, "default_vocab_size", "config");
  if (!vocab_size.ok()) return vocab_size.error();
  auto num_special = IntField(*it, "default_num_special_tokens", "config");
  if (!num_special.ok()) return num_special.error();
  if (*num_special < 3 || *num_special > (1 << 20)) {
    return Fail("config.default_num_special_tokens: %lld is out of range",
                static_cast<long long>(*num_special));
  }
  // 256 byte tokens at least, and ids that fit an int32.
  if (*vocab_size < *num_special + 256 || *vocab_size > (int64_t{1} << 30)) {
    return Fail("config.default_vocab_size: %lld is out of range (at least %lld)",
                static_cast<long long>(*vocab_size), static_cast<long long>(*num_special + 256));
  }
  config.vocab_size = *vocab_size;
  config.num_special = *num_special;
  return config;
}

// The special token names, rank order, filled to `num_special`.
Result<std::vector<std::string>> ReadSpecialTokens(const json& root, const TekkenConfig& config) {
  std::vector<std::string> names;
  const auto it = root.find("special_tokens");
  if (it == root.end() || it->is_null()) {
    if (VersionIndex(config.version) > VersionIndex("v7")) {
      return Fail("special_tokens: missing (required from version v11 on, the file says %s)",
                  config.version.c_str());
    }
    names.assign(std::begin(kDeprecatedSpecialTokens), std::end(kDeprecatedSpecialTokens));
  } else {
    if (!it->is_array()) return Fail("special_tokens: not an array");
    for (size_t i = 0; i < it->size(); ++i) {
      const json& entry = (*it)[i];
      const std::string where = "special_tokens[" + std::to_string(i) + "]";
      if (!entry.is_object()) return Fail("%s: not an object", where.c_str());
      auto rank = IntField(entry, "rank", where);
      if (!rank.ok()) return rank.error();
      if (*rank != static_cast<int64_t>(i)) {
        return Fail("%s.rank: %lld, expected %zu (ranks must be 0, 1, 2, ...)", where.c_str(),
                    static_cast<long long>(*rank), i);
      }
      auto name = StringField(entry, "token_str", where);
      if (!name.ok()) return name.error();
      if (name->empty()) return Fail("%s.token_str: empty", where.c_str());
      names.push_back(std::move(*name));
    }
  }
  if (static_cast<int64_t>(names.size()) > config.num_special) {
    return Fail("special_tokens: %zu tokens but config.default_num_special_tokens is %lld",
                names.size(), static_cast<long long>(config.num_special));
  }
  std::unordered_set<std::string> seen;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!seen.insert(names[i]).second) {
      return Fail("special_tokens[%zu].token_str: '%s' appears twice", i, names[i].c_str());
    }
  }
  // As mistral-common: the unnamed special ids are "<SPECIAL_i>", i their id.
  for (auto id = static_cast<int64_t>(names.size()); id < config.num_special; ++id) {
    names.push_back("<SPECIAL_" + std::to_string(id) + ">");
    if (!seen.insert(names.back()).second) {
      return Fail("special_tokens: '%s' is also the name of a filler id", names.back().c_str());
    }
  }
  return names;
}

// Appends the first `count` ranks of root["vocab"] to `tokens`, spelled in the
// byte-level alphabet.
Status ReadRanks(const json& root, int64_t count, std::vector<std::string>& tokens) {
  const auto it = root.find("vocab");
  if (it == root.end()) return Fail("vocab: missing");
  if (!it->is_array()) return Fail("vocab: not an array");
  // Optional, as in mistral-common, but when given it must describe the list.
  if (const auto config = root.find("config"); config->contains("num_vocab_tokens")) {
    auto declared = IntField(*config, "num_vocab_tokens", "config");
    if (!declared.ok()) return declared.error();
    if (*declared != static_cast<int64_t>(it->size())) {
      return Fail("config.num_vocab_tokens: %lld, but vocab has %zu ranks",
                  static_cast<long long>(*declared), it->size());
    }
  }
  if (static_cast<int64_t>(it->size()) < count) {
    return Fail(
        "vocab: %zu ranks, fewer than config.default_vocab_size - default_num_special_tokens = "
        "%lld",
        it->size(), static_cast<long long>(count));
  }
  std::unordered_set<std::string> seen;
  seen.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    const json& entry = (*it)[static_cast<size_t>(i)];
    const std::string where = "vocab[" + std::to_string(i) + "]";
    if (!entry.is_object()) return Fail("%s: not an object", where.c_str());
    auto rank = IntField(entry, "rank", where);
    if (!rank.ok()) return rank.error();
    if (*rank != i) {
      return Fail("%s.rank: %lld, expected %lld (ranks must be unique and dense, in order)",
                  where.c_str(), static_cast<long long>(*rank), static_cast<long long>(i));
    }
    auto encoded = StringField(entry, "token_bytes", where);
    if (!encoded.ok()) return encoded.error();
    auto bytes = tekken_internal::DecodeBase64(*encoded);
    if (!bytes.ok())
      return Fail("%s.token_bytes: %s", where.c_str(), bytes.error().message.c_str());
    if (bytes->empty()) return Fail("%s.token_bytes: no bytes", where.c_str());
    // tiktoken needs every byte as a token, at the rank of its value.
    if (i < 256 && (bytes->size() != 1 || static_cast<uint8_t>((*bytes)[0]) != i)) {
      return Fail("%s.token_bytes: rank %lld must be the single byte 0x%02llx", where.c_str(),
                  static_cast<long long>(i), static_cast<long long>(i));
    }
    if (!seen.insert(*bytes).second) {
      return Fail("%s.token_bytes: the same bytes as an earlier rank", where.c_str());
    }
    std::string text;
    unicode::AppendByteLevel(*bytes, text);
    tokens.push_back(std::move(text));
  }
  return {};
}

int32_t IdOf(const std::vector<std::string>& names, std::string_view name) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<int32_t>(i);
  }
  return -1;
}

Result<VocabSpec> BuildSpec(const json& root) {
  if (!root.is_object()) return Fail("not a JSON object");
  auto config = ReadConfig(root);
  if (!config.ok()) return config.error();
  auto names = ReadSpecialTokens(root, *config);
  if (!names.ok()) return names.error();

  VocabSpec spec;
  spec.model = "tekken";
  spec.pre_pattern = config->pattern;
  spec.num_special_tokens = static_cast<int32_t>(config->num_special);
  spec.tokens = std::move(*names);
  spec.tokens.reserve(static_cast<size_t>(config->vocab_size));
  AUTAN_TRY(ReadRanks(root, config->vocab_size - config->num_special, spec.tokens));
  const auto required = [&spec](std::string_view name) -> Result<int32_t> {
    const int32_t id = IdOf(spec.tokens, name);
    if (id < 0 || id >= spec.num_special_tokens) {
      return Fail("special_tokens: no '%.*s'", static_cast<int>(name.size()), name.data());
    }
    return id;
  };
  auto bos = required("<s>");
  if (!bos.ok()) return bos.error();
  auto eos = required("</s>");
  if (!eos.ok()) return eos.error();
  spec.bos_id = *bos;
  spec.eos_id = *eos;
  const int32_t unk = IdOf(spec.tokens, "<unk>");
  const int32_t pad = IdOf(spec.tokens, "<pad>");
  spec.unk_id = unk < spec.num_special_tokens ? unk : -1;
  spec.pad_id = pad < spec.num_special_tokens ? pad : -1;
  spec.add_bos = true;
  spec.add_eos = false;
  return spec;
}

}  // namespace

namespace tekken_internal {

Result<std::string> DecodeBase64(std::string_view text) {
  if (text.size() % 4 != 0) {
    return Fail("invalid base64: length %zu is not a multiple of 4", text.size());
  }
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    size_t padding = 0;
    if (last && text[i + 3] == '=') padding = text[i + 2] == '=' ? 2 : 1;
    uint32_t group = 0;
    for (size_t j = 0; j < 4; ++j) {
      const char c = text[i + j];
      int sextet = 0;
      if (j >= 4 - padding) {
        sextet = 0;  // the '=' checked above
      } else {
        sextet = SextetOf(c);
        if (sextet < 0) {
          return Fail("invalid base64: character '%c' (0x%02x) at offset %zu",
                      c >= 0x20 && c < 0x7f ? c : '?',
                      static_cast<unsigned>(static_cast<uint8_t>(c)), i + j);
        }
      }
      group = group << 6 | static_cast<uint32_t>(sextet);
    }
    // Bits a padded group does not use must be zero (canonical encoding).
    if ((padding == 1 && (group & 0xFF) != 0) || (padding == 2 && (group & 0xFFFF) != 0)) {
      return Fail("invalid base64: non-zero bits before the padding at offset %zu", i);
    }
    out.push_back(static_cast<char>(group >> 16));
    if (padding < 2) out.push_back(static_cast<char>(group >> 8 & 0xFF));
    if (padding < 1) out.push_back(static_cast<char>(group & 0xFF));
  }
  return out;
}

}  // namespace tekken_internal

Result<VocabSpec> VocabSpecFromTekken(std::string_view text, std::string_view file_name,
                                      std::string* version) {
  const json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) {
    return Fail("%.*s: not valid JSON", static_cast<int>(file_name.size()), file_name.data());
  }
  auto spec = BuildSpec(root);
  if (!spec.ok()) {
    return Fail("%.*s: %s", static_cast<int>(file_name.size()), file_name.data(),
                spec.error().message.c_str());
  }
  if (version != nullptr) *version = root["config"]["version"].get<std::string>();
  return spec;
}

Result<Tokenizer> LoadTekken(const std::string& path, std::string* version) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("%s: cannot open", path.c_str());
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto spec = VocabSpecFromTekken(text, path, version);
  if (!spec.ok()) return spec.error();
  auto tokenizer = Tokenizer::Create(std::move(*spec));
  if (!tokenizer.ok()) return Fail("%s: %s", path.c_str(), tokenizer.error().message.c_str());
  return tokenizer;
}

}  // namespace autan
