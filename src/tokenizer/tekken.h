// Mistral's Tekken vocabulary file (tekken.json), as mistral-common's
// Tekkenizer reads it: tiktoken ranks whose bytes are base64, the file's
// pre-tokenizer expression, and special tokens occupying the first ids.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace autan {

// The vocabulary in `json` (the content of `file_name`, which only names it in
// errors). Validates before use: the JSON shape, each vocab entry's rank (equal
// to its index) and base64 token_bytes, the first 256 ranks being the single
// bytes, no two ranks with the same bytes, the special tokens (ranks 0..n-1,
// unique names, at most default_num_special_tokens of them), and
// default_vocab_size (at most the ranks plus special tokens; the ranks are cut
// to default_vocab_size - default_num_special_tokens). Files without
// special_tokens (versions up to v7) get mistral-common's historical list, the
// rest of the special ids filled with "<SPECIAL_i>". Each error names the file
// and the field. `version` receives config.version ("v3", "v7", ...) when given.
Result<VocabSpec> VocabSpecFromTekken(std::string_view json, std::string_view file_name,
                                      std::string* version = nullptr);

// The file at `path`, read and built into a Tokenizer (which also compiles
// config.pattern).
Result<Tokenizer> LoadTekken(const std::string& path, std::string* version = nullptr);

namespace tekken_internal {
// Strict RFC 4648 base64 (with padding); nullopt-like failure as an Error
// saying which character is wrong. Exposed for tests.
Result<std::string> DecodeBase64(std::string_view text);
}  // namespace tekken_internal

}  // namespace autan
