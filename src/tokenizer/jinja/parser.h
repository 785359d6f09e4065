// Parses template tokens into a syntax tree with Jinja2's grammar and operator
// precedence. Filters and tests are resolved here, so an unknown one is a parse
// error, as it is a compile error in Jinja2.
#pragma once

#include <string_view>
#include <vector>

#include "core/result.h"
#include "tokenizer/jinja/ast.h"

namespace autan::jinja {

// Nesting of expressions and blocks beyond this is refused, bounding recursion.
inline constexpr int kMaxParseDepth = 128;

Result<std::vector<NodePtr>> ParseTemplate(std::string_view source);

}  // namespace autan::jinja
