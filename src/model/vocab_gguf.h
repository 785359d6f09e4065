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

// The tokenizer.ggml.* keys that store `spec`, as llama.cpp's converter
// writes them: "llama" with tokens, scores and token types; "gpt2" with
// tokens, token types, merges and a named pre-tokenizer; a "tekken"
// vocabulary as gpt2 with the "tekken" pre-tokenizer and merges derived from
// its ranks. Fails for a vocabulary whose pre-tokenizer is an expression of
// its own (a tokenizer.json's), which no GGUF key can carry.
Result<std::vector<std::pair<std::string, gguf::Value>>> VocabGgufMetadata(const VocabSpec& spec);

}  // namespace autan
