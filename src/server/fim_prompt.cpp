#include "server/fim_prompt.h"

namespace autan::server {
namespace {

std::optional<int32_t> ControlToken(const Tokenizer& tok, std::string_view text) {
  const std::optional<int32_t> id = tok.FindToken(text);
  if (!id || tok.token_type(*id) != TokenType::kControl) return std::nullopt;
  return id;
}

}  // namespace

Result<std::vector<int32_t>> BuildFimPrompt(const Tokenizer& tok, std::string_view prompt,
                                            std::string_view suffix) {
  const std::optional<int32_t> suffix_token = ControlToken(tok, "[SUFFIX]");
  const std::optional<int32_t> prefix_token = ControlToken(tok, "[PREFIX]");
  if (!suffix_token || !prefix_token) {
    return Fail(
        "this model's vocabulary has no [SUFFIX] and [PREFIX] control tokens, which Mistral's "
        "fill-in-the-middle needs (Codestral has them)");
  }
  std::vector<int32_t> ids;
  if (tok.bos() >= 0) ids.push_back(tok.bos());
  ids.push_back(*suffix_token);
  const std::vector<int32_t> s =
      tok.Encode(suffix, {.add_special = false, .parse_special = false, .space_prefix = false});
  ids.insert(ids.end(), s.begin(), s.end());
  ids.push_back(*prefix_token);
  const std::vector<int32_t> p = tok.Encode(prompt, {.add_special = false, .parse_special = false});
  ids.insert(ids.end(), p.begin(), p.end());
  return ids;
}

}  // namespace autan::server
