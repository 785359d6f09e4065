// Hugging Face tokenizer.json for the two BPE shapes Mistral's and Llama's
// repositories use: SentencePiece-style BPE (byte fallback, "▁" for spaces;
// Mistral 7B, Mixtral) and byte-level BPE with a Split pre-tokenizer (Mistral
// NeMo and other Tekken models in the HF layout).
#pragma once

#include <string_view>

#include "core/result.h"
#include "tokenizer/vocab.h"

namespace autan {

// The vocabulary of a tokenizer.json. SentencePiece-style merges become scores
// (an earlier merge scores higher, which gives the same merge order); special
// added tokens become control tokens. Errors name `file_name` and the field.
Result<VocabSpec> VocabSpecFromHfJson(std::string_view json, std::string_view file_name);

}  // namespace autan
