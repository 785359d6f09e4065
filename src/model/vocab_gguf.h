// Builds the Tokenizer of a GGUF file from its tokenizer.ggml.* metadata.
// Works on vocabulary-only files (no tensors needed).
#pragma once

#include "core/result.h"
#include "formats/gguf.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace autan {

// The VocabSpec stored in `file`. Errors name the key: a missing
// tokenizer.ggml.model or .tokens (or .merges for "gpt2"), a key of the wrong
// type, arrays whose lengths disagree, or a special-token id out of range.
Result<VocabSpec> VocabSpecFromGguf(const gguf::File& file);

Result<Tokenizer> TokenizerFromGguf(const gguf::File& file);

}  // namespace autan
