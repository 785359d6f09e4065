// JINJA_ASSIGN(lhs, expr): evaluates a Result expression, returns its error
// from the enclosing function, or assigns its value to lhs.
#pragma once

#define JINJA_ASSIGN(lhs, expr)                \
  auto JINJA_CONCAT(r_, __LINE__) = (expr);    \
  if (!JINJA_CONCAT(r_, __LINE__).ok()) {      \
    return JINJA_CONCAT(r_, __LINE__).error(); \
  }                                            \
  lhs = std::move(JINJA_CONCAT(r_, __LINE__).value())
#define JINJA_CONCAT_INNER(a, b) a##b
#define JINJA_CONCAT(a, b) JINJA_CONCAT_INNER(a, b)
