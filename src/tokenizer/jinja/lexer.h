// Splits a template into text and tag tokens exactly as Jinja2's lexer does with
// the settings transformers uses (trim_blocks, lstrip_blocks, no trailing
// newline kept), including `-`/`+` whitespace control and {% raw %} blocks.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace autan::jinja {

struct Pos {
  int line = 1;
  int col = 1;  // in code points, from 1
};

enum class TokenType : uint8_t {
  kData,        // template text, already whitespace-controlled
  kVarBegin,    // {{
  kVarEnd,      // }}
  kBlockBegin,  // {%
  kBlockEnd,    // %}
  kName,
  kString,  // text holds the unescaped value
  kInt,
  kFloat,
  kOp,  // text holds the operator: "+", "//", "==", "(", ...
  kEof,
};

struct Token {
  TokenType type = TokenType::kEof;
  std::string text;
  int64_t int_value = 0;
  double float_value = 0;
  Pos pos;
};

// The token list always ends with a kEof token.
Result<std::vector<Token>> Tokenize(std::string_view source);

// "line 3:14: " — the prefix every template error starts with.
std::string Where(Pos pos);

}  // namespace autan::jinja
