// SentencePiece's model file (tokenizer.model, Mistral's tokenizer.model.v3):
// a protocol buffer (sentencepiece_model.proto's ModelProto) read here without
// libsentencepiece, which the tests keep as an oracle.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace autan {

// The "llama" vocabulary in a serialized ModelProto: its pieces (text, score,
// type), the special ids of its trainer_spec and normalizer_spec's
// add_dummy_prefix. Only BPE models are accepted (the kind Llama and Mistral
// use). Every read is bounds-checked; errors name `file_name`, the field
// ("pieces[12].score") and the byte offset.
Result<VocabSpec> VocabSpecFromSentencePiece(std::span<const uint8_t> bytes,
                                             std::string_view file_name);

Result<Tokenizer> LoadSentencePiece(const std::string& path);

}  // namespace autan
