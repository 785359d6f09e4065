// Writes a SentencePiece model file (sentencepiece_model.proto's ModelProto)
// from a "llama" vocabulary: the inverse of sentencepiece_model.h, so a model
// folder can carry the vocabulary a GGUF file holds.
#pragma once

#include <cstdint>
#include <vector>

#include "core/result.h"
#include "tokenizer/vocab.h"

namespace autan {

// The pieces (text, score, type), a BPE trainer_spec with the special ids and
// byte fallback, and an identity normalizer_spec with add_dummy_prefix as
// the vocabulary says: what Llama's and Mistral's tokenizer.model hold, and
// what libsentencepiece loads. Fails for other vocabulary models.
Result<std::vector<uint8_t>> SerializeSentencePiece(const VocabSpec& spec);

}  // namespace autan
