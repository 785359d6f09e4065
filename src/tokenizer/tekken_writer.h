// Tekken vocabularies as GGUF stores them and back. llama.cpp's converter
// writes a tekken.json as byte-level BPE ("gpt2" with the "tekken"
// pre-tokenizer): the same tokens, special ones as control tokens, and merges
// derived from the ranks. SerializeTekken writes such a vocabulary (or a
// "tekken" one) as a tekken.json that VocabSpecFromTekken reads back.
#pragma once

#include <string>

#include "core/result.h"
#include "tokenizer/vocab.h"

namespace autan {

// A "tekken" vocabulary as llama.cpp's GGUF spells it: model "gpt2", pre
// "tekken", the special ids as control tokens, and for every ranked token
// longer than a byte the merge that makes it, found as tiktoken does (its
// bytes merged with the lower ranks only, which leaves two parts).
Result<VocabSpec> TekkenToByteLevelBpe(const VocabSpec& tekken);

// tekken.json (the vocabulary's instruct version, else v3; special tokens
// listed) for a "tekken" vocabulary
// or a byte-level one whose leading control tokens are the special ids and
// whose next 256 tokens are the single bytes.
Result<std::string> SerializeTekken(const VocabSpec& spec);

}  // namespace autan
