// The vocabulary of a checkpoint folder (Hugging Face or Mistral layout):
// its tokenizer file, with the BOS/EOS flags of tokenizer_config.json
// applied as Hugging Face's tokenizers apply them, padded with placeholder
// tokens up to the embeddings' rows. Loading the folder and converting it to
// GGUF both read it here, so both tokenize alike.
#pragma once

#include <string>

#include "core/result.h"
#include "formats/checkpoint.h"
#include "tokenizer/vocab.h"

namespace autan {

Result<VocabSpec> CheckpointVocab(const CheckpointView& view, const std::string& dir);

}  // namespace autan
