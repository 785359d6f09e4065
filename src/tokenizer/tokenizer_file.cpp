#include "tokenizer/tokenizer_file.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string_view>

#include "tokenizer/hf_tokenizer.h"
#include "tokenizer/sentencepiece_model.h"
#include "tokenizer/tekken.h"

namespace autan {
namespace {

// As mistral-common names SentencePiece files: tokenizer.model is v1,
// tokenizer.model.v3 (or .v3m1, a variant of it) is v3.
std::string InstructVersionOfSpmFile(const std::string& path) {
  const std::string name = std::filesystem::path(path).filename().string();
  const std::string_view stem = ".model";
  const size_t at = name.rfind(stem);
  if (at == std::string::npos) return "";
  const std::string_view suffix = std::string_view(name).substr(at + stem.size());
  if (suffix.empty()) return "v1";
  if (suffix.size() < 3 || suffix[0] != '.' || suffix[1] != 'v') return "";
  size_t digits = 2;
  while (digits < suffix.size() && suffix[digits] >= '0' && suffix[digits] <= '9') ++digits;
  return digits > 2 ? std::string(suffix.substr(1, digits - 1)) : "";
}

}  // namespace

Result<VocabSpec> LoadVocabSpecFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("%s: cannot open", path.c_str());
  const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t first = content.find_first_not_of(" \t\r\n");
  Result<VocabSpec> spec = Fail("unread");
  std::string version;
  if (first != std::string::npos && content[first] == '{') {
    // A JSON object; SentencePiece models start with field 1's key (0x0A).
    // Tekken files hold "token_bytes"; Hugging Face's tokenizer.json a "model".
    const bool tekken = content.find("\"token_bytes\"") != std::string::npos ||
                        content.find("\"model\"") == std::string::npos;
    spec =
        tekken ? VocabSpecFromTekken(content, path, &version) : VocabSpecFromHfJson(content, path);
  } else {
    const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(content.data()),
                                         content.size());
    spec = VocabSpecFromSentencePiece(bytes, path);
    version = InstructVersionOfSpmFile(path);
  }
  if (spec.ok()) spec->mistral_instruct = version;
  return spec;
}

Result<Tokenizer> LoadTokenizerFile(const std::string& path) {
  Result<VocabSpec> spec = LoadVocabSpecFile(path);
  if (!spec.ok()) return spec.error();
  auto tokenizer = Tokenizer::Create(std::move(*spec));
  if (!tokenizer.ok()) return Fail("%s: %s", path.c_str(), tokenizer.error().message.c_str());
  return tokenizer;
}

}  // namespace autan
