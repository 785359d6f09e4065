#include "tokenizer/tokenizer_file.h"

#include <fstream>
#include <iterator>
#include <span>
#include <string_view>

#include "tokenizer/hf_tokenizer.h"
#include "tokenizer/sentencepiece_model.h"
#include "tokenizer/tekken.h"

namespace autan {

Result<VocabSpec> LoadVocabSpecFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("%s: cannot open", path.c_str());
  const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t first = content.find_first_not_of(" \t\r\n");
  Result<VocabSpec> spec = Fail("unread");
  if (first != std::string::npos && content[first] == '{') {
    // A JSON object; SentencePiece models start with field 1's key (0x0A).
    // Tekken files hold "token_bytes"; Hugging Face's tokenizer.json a "model".
    const bool tekken = content.find("\"token_bytes\"") != std::string::npos ||
                        content.find("\"model\"") == std::string::npos;
    spec = tekken ? VocabSpecFromTekken(content, path) : VocabSpecFromHfJson(content, path);
  } else {
    const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(content.data()),
                                         content.size());
    spec = VocabSpecFromSentencePiece(bytes, path);
  }
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
