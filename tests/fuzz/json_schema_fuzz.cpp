// Constrained decoding: a JSON schema compiled into a grammar, then driven.
// Input: "schema\n----\nforced output\n----\nchoices". The schema compiles or
// is refused with a message; the forced output is accepted or refused; then
// the constraint picks tokens (the k-th allowed one, k from the choice bytes)
// until an end token. Two properties are checked: while the value is not
// finished some token is always allowed (the vocabulary has every single
// byte), and a finished output is valid JSON.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "runtime/constraint/json_constraint.h"

namespace autan::fuzz {
namespace {

using constraint::JsonConstraint;
using constraint::TokenTrie;

// Every byte as a token, some multi-byte JSON pieces, and an end token.
std::shared_ptr<const TokenTrie> MakeVocab() {
  std::vector<std::string> pieces;
  for (int b = 0; b < 256; ++b) pieces.emplace_back(1, static_cast<char>(b));
  for (const char* p : {"{\"",
                        "\":",
                        "\": ",
                        "\",",
                        "\", \"",
                        "true",
                        "false",
                        "null",
                        "}",
                        "]",
                        "[{",
                        "}]",
                        "  ",
                        "\n",
                        "\\u00",
                        "123",
                        "-0.5e+1",
                        "\xc3\xa9",
                        "\xf0\x9f\x98\x80",
                        "\\\"",
                        "name",
                        "\"name\"",
                        "arguments"}) {
    pieces.emplace_back(p);
  }
  pieces.emplace_back("");  // the end token: no bytes
  const int32_t end = static_cast<int32_t>(pieces.size()) - 1;
  return MustHave(TokenTrie::FromPieces(std::move(pieces), {end}), "token trie");
}

[[noreturn]] void Finding(const char* what, const std::string& output) {
  std::fprintf(stderr, "%s; output so far: %s\n", what, output.c_str());
  std::abort();
}

void Drive(JsonConstraint& c, std::string output, std::string_view choices) {
  std::vector<uint8_t> mask;
  for (size_t step = 0; step < 128 && !c.IsFinished(); ++step) {
    const int32_t n = c.AllowedTokens(mask);
    if (n == 0) Finding("no token allowed before the value is finished", output);
    const uint8_t k = step < choices.size() ? static_cast<uint8_t>(choices[step]) : 0;
    int32_t pick = -1;
    for (int32_t id = 0, seen = 0; id < static_cast<int32_t>(mask.size()); ++id) {
      if (mask[id] && seen++ == k % n) {
        pick = id;
        break;
      }
    }
    if (pick < 0) Finding("AllowedTokens counted more tokens than the mask holds", output);
    const Status ok = c.Accept(pick);
    if (!ok.ok()) Finding("an allowed token was refused", output);
    output += c.vocab().piece(pick);
  }
  if (c.IsFinished() && !nlohmann::json::accept(output)) {
    Finding("the finished output is not valid JSON", output);
  }
}

}  // namespace
}  // namespace autan::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace autan;
  static const std::shared_ptr<const constraint::TokenTrie> vocab = fuzz::MakeVocab();
  const std::vector<std::string_view> parts = fuzz::SplitParts(fuzz::AsText(data, size), 3);
  const nlohmann::ordered_json schema =
      nlohmann::ordered_json::parse(parts[0], nullptr, /*allow_exceptions=*/false);
  if (schema.is_discarded()) return 0;
  Result<constraint::JsonConstraint> c = constraint::JsonConstraint::FromSchema(schema, vocab);
  if (!c.ok()) {
    fuzz::CheckMessage(c.error());
    return 0;
  }
  std::string forced;
  if (parts.size() > 1) {
    const Status accepted = c->AcceptText(parts[1]);
    if (!accepted.ok()) {
      fuzz::CheckMessage(accepted.error());
      return 0;
    }
    forced = std::string(parts[1]);
  }
  fuzz::Drive(*c, std::move(forced), parts.size() > 2 ? parts[2] : std::string_view());
  return 0;
}
