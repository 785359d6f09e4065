// Mistral's fill-in-the-middle prompt, as mistral-common's encode_fim builds
// it for its V2/V3 and Tekken tokenizers:
//   BOS [SUFFIX] suffix [PREFIX] prompt
// with [SUFFIX] and [PREFIX] the vocabulary's control tokens. The suffix is
// encoded without SentencePiece's leading space (mistral-common's
// _encode_infilling), the prompt as ordinary text; the model then writes the
// middle.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "tokenizer/tokenizer.h"

namespace autan::server {

// Fails when the vocabulary has no [SUFFIX] and [PREFIX] control tokens.
Result<std::vector<int32_t>> BuildFimPrompt(const Tokenizer& tokenizer, std::string_view prompt,
                                            std::string_view suffix);

}  // namespace autan::server
