// A bare tokenizer file, recognized by its content: Mistral's tekken.json
// (a JSON object with "config" and "vocab"), Hugging Face's tokenizer.json (a
// JSON object with "model") or a SentencePiece model (tokenizer.model,
// tokenizer.model.v3; a protocol buffer).
#pragma once

#include <string>

#include "core/result.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace autan {

Result<Tokenizer> LoadTokenizerFile(const std::string& path);
// The vocabulary of such a file, not yet built into a Tokenizer.
Result<VocabSpec> LoadVocabSpecFile(const std::string& path);

}  // namespace autan
