// Expressions, with Jinja2's grammar and operator precedence (parser.py).
#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/parser_internal.h"

namespace autan::jinja {

Result<ExprPtr> Parser::ParseExpression(bool with_condexpr) {
  DepthGuard guard(&depth_);
  AUTAN_TRY(CheckDepth());
  if (!with_condexpr) return ParseOr();
  Pos pos = Cur().pos;
  JINJA_ASSIGN(ExprPtr expr, ParseOr());
  while (SkipName("if")) {
    auto cond = MakeExpr(ExprKind::kCondExpr, pos);
    JINJA_ASSIGN(ExprPtr test, ParseOr());
    ExprPtr otherwise;
    if (SkipName("else")) {
      JINJA_ASSIGN(otherwise, ParseExpression(true));
    }
    cond->args.push_back(std::move(test));
    cond->args.push_back(std::move(expr));
    cond->args.push_back(std::move(otherwise));
    expr = std::move(cond);
  }
  return expr;
}

Result<ExprPtr> Parser::ParseOr() {
  JINJA_ASSIGN(ExprPtr lhs, ParseAnd());
  while (IsName("or")) {
    Pos pos = Next().pos;
    JINJA_ASSIGN(ExprPtr rhs, ParseAnd());
    lhs = Binary("or", pos, std::move(lhs), std::move(rhs));
  }
  return lhs;
}

Result<ExprPtr> Parser::ParseAnd() {
  JINJA_ASSIGN(ExprPtr lhs, ParseNot());
  while (IsName("and")) {
    Pos pos = Next().pos;
    JINJA_ASSIGN(ExprPtr rhs, ParseNot());
    lhs = Binary("and", pos, std::move(lhs), std::move(rhs));
  }
  return lhs;
}

Result<ExprPtr> Parser::ParseNot() {
  if (!IsName("not")) return ParseCompare();
  DepthGuard guard(&depth_);
  AUTAN_TRY(CheckDepth());
  auto e = MakeExpr(ExprKind::kUnary, Next().pos, "not");
  JINJA_ASSIGN(ExprPtr operand, ParseNot());
  e->args.push_back(std::move(operand));
  return e;
}

Result<ExprPtr> Parser::ParseCompare() {
  Pos pos = Cur().pos;
  JINJA_ASSIGN(ExprPtr first, ParseMath1());
  ExprPtr cmp;
  while (true) {
    std::string op;
    if (Cur().type == TokenType::kOp &&
        (Cur().text == "==" || Cur().text == "!=" || Cur().text == "<" || Cur().text == ">" ||
         Cur().text == "<=" || Cur().text == ">=")) {
      op = Next().text;
    } else if (SkipName("in")) {
      op = "in";
    } else if (IsName("not") && Look().type == TokenType::kName && Look().text == "in") {
      Next();
      Next();
      op = "notin";
    } else {
      break;
    }
    if (!cmp) {
      cmp = MakeExpr(ExprKind::kCompare, pos);
      cmp->args.push_back(std::move(first));
    }
    JINJA_ASSIGN(ExprPtr rhs, ParseMath1());
    cmp->ops.push_back(op);
    cmp->args.push_back(std::move(rhs));
  }
  return cmp ? std::move(cmp) : std::move(first);
}

Result<ExprPtr> Parser::ParseMath1() {
  JINJA_ASSIGN(ExprPtr lhs, ParseConcat());
  while (IsOp("+") || IsOp("-")) {
    const Token& op = Next();
    JINJA_ASSIGN(ExprPtr rhs, ParseConcat());
    lhs = Binary(op.text, op.pos, std::move(lhs), std::move(rhs));
  }
  return lhs;
}

Result<ExprPtr> Parser::ParseConcat() {
  JINJA_ASSIGN(ExprPtr lhs, ParseMath2());
  while (IsOp("~")) {
    Pos pos = Next().pos;
    JINJA_ASSIGN(ExprPtr rhs, ParseMath2());
    lhs = Binary("~", pos, std::move(lhs), std::move(rhs));
  }
  return lhs;
}

Result<ExprPtr> Parser::ParseMath2() {
  JINJA_ASSIGN(ExprPtr lhs, ParsePow());
  while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%")) {
    const Token& op = Next();
    JINJA_ASSIGN(ExprPtr rhs, ParsePow());
    lhs = Binary(op.text, op.pos, std::move(lhs), std::move(rhs));
  }
  return lhs;
}

Result<ExprPtr> Parser::ParsePow() {
  JINJA_ASSIGN(ExprPtr lhs, ParseUnary(true));
  while (IsOp("**")) {
    Pos pos = Next().pos;
    JINJA_ASSIGN(ExprPtr rhs, ParseUnary(true));
    lhs = Binary("**", pos, std::move(lhs), std::move(rhs));
  }
  return lhs;
}

Result<ExprPtr> Parser::ParseUnary(bool with_filter) {
  DepthGuard guard(&depth_);
  AUTAN_TRY(CheckDepth());
  ExprPtr node;
  if (IsOp("-") || IsOp("+")) {
    const Token& op = Next();
    node = MakeExpr(ExprKind::kUnary, op.pos, op.text);
    JINJA_ASSIGN(ExprPtr operand, ParseUnary(false));
    node->args.push_back(std::move(operand));
  } else {
    JINJA_ASSIGN(node, ParsePrimary());
  }
  JINJA_ASSIGN(node, ParsePostfix(std::move(node)));
  if (with_filter) {
    JINJA_ASSIGN(node, ParseFilterExpr(std::move(node)));
  }
  return node;
}

Result<ExprPtr> Parser::ParsePrimary() {
  const Token& t = Cur();
  switch (t.type) {
    case TokenType::kName: {
      Next();
      auto e = MakeExpr(ExprKind::kLiteral, t.pos);
      if (t.text == "true" || t.text == "True") {
        e->literal = Value(true);
      } else if (t.text == "false" || t.text == "False") {
        e->literal = Value(false);
      } else if (t.text == "none" || t.text == "None") {
        e->literal = Value();
      } else {
        e->kind = ExprKind::kName;
        e->name = t.text;
      }
      return e;
    }
    case TokenType::kString: {
      auto e = MakeExpr(ExprKind::kLiteral, t.pos);
      std::string s;
      while (Cur().type == TokenType::kString) s += Next().text;  // "a" "b" concatenates
      e->literal = Value(std::move(s));
      return e;
    }
    case TokenType::kInt:
    case TokenType::kFloat: {
      Next();
      auto e = MakeExpr(ExprKind::kLiteral, t.pos);
      e->literal = t.type == TokenType::kInt ? Value(t.int_value) : Value(t.float_value);
      return e;
    }
    default:
      break;
  }
  if (IsOp("(")) {
    Next();
    JINJA_ASSIGN(ExprPtr e, ParseTuple(true, {}, true));
    AUTAN_TRY(ExpectOp(")"));
    return e;
  }
  if (IsOp("[") || IsOp("{")) {
    bool is_dict = IsOp("{");
    auto e = MakeExpr(is_dict ? ExprKind::kDict : ExprKind::kList, Next().pos);
    const char* close = is_dict ? "}" : "]";
    while (!IsOp(close)) {
      if (!e->args.empty()) AUTAN_TRY(ExpectOp(","));
      if (IsOp(close)) break;
      JINJA_ASSIGN(ExprPtr item, ParseExpression(true));
      e->args.push_back(std::move(item));
      if (is_dict) {
        AUTAN_TRY(ExpectOp(":"));
        JINJA_ASSIGN(ExprPtr value, ParseExpression(true));
        e->args.push_back(std::move(value));
      }
    }
    Next();
    return e;
  }
  return Unexpected("an expression");
}

Result<ExprPtr> Parser::ParseTuple(bool with_condexpr, std::vector<std::string_view> end_names,
                                   bool explicit_parens) {
  Pos pos = Cur().pos;
  std::vector<ExprPtr> items;
  bool is_tuple = false;
  while (true) {
    if (!items.empty()) AUTAN_TRY(ExpectOp(","));
    bool at_end =
        Cur().type == TokenType::kVarEnd || Cur().type == TokenType::kBlockEnd || IsOp(")");
    for (std::string_view end : end_names) at_end = at_end || IsName(end);
    if (at_end) break;
    JINJA_ASSIGN(ExprPtr item, ParseExpression(with_condexpr));
    items.push_back(std::move(item));
    if (!IsOp(",")) break;
    is_tuple = true;
  }
  if (!is_tuple && !items.empty()) return std::move(items[0]);
  if (!is_tuple && !explicit_parens) return Unexpected("an expression");
  auto e = MakeExpr(ExprKind::kTuple, pos);
  e->args = std::move(items);
  return e;
}

Result<ExprPtr> Parser::ParsePostfix(ExprPtr node) {
  while (true) {
    if (IsOp(".")) {
      Pos pos = Next().pos;
      if (Cur().type == TokenType::kName) {
        auto e = MakeExpr(ExprKind::kGetAttr, pos, Next().text);
        e->args.push_back(std::move(node));
        node = std::move(e);
      } else if (Cur().type == TokenType::kInt) {
        auto e = MakeExpr(ExprKind::kGetItem, pos);
        auto index = MakeExpr(ExprKind::kLiteral, Cur().pos);
        index->literal = Value(Next().int_value);
        e->args.push_back(std::move(node));
        e->args.push_back(std::move(index));
        node = std::move(e);
      } else {
        return Unexpected("a name or number after '.'");
      }
    } else if (IsOp("[")) {
      Pos pos = Next().pos;
      JINJA_ASSIGN(ExprPtr sub, ParseSubscribed());
      if (IsOp(",")) return Fail("%stuple subscripts are not supported", Where(pos).c_str());
      AUTAN_TRY(ExpectOp("]"));
      if (sub->kind == ExprKind::kSlice) {
        sub->args[0] = std::move(node);
        sub->pos = pos;
        node = std::move(sub);
      } else {
        auto e = MakeExpr(ExprKind::kGetItem, pos);
        e->args.push_back(std::move(node));
        e->args.push_back(std::move(sub));
        node = std::move(e);
      }
    } else if (IsOp("(")) {
      auto call = MakeExpr(ExprKind::kCall, Cur().pos);
      call->args.push_back(std::move(node));
      AUTAN_TRY(ParseCallArgs(call.get()));
      node = std::move(call);
    } else {
      return node;
    }
  }
}

// A subscript or a slice `[start:stop:step]`; slices come back as kSlice with
// args[0] left for the subscripted object.
Result<ExprPtr> Parser::ParseSubscribed() {
  Pos pos = Cur().pos;
  ExprPtr start;
  if (!IsOp(":")) {
    JINJA_ASSIGN(start, ParseExpression(true));
    if (!IsOp(":")) return start;
  }
  Next();
  auto slice = MakeExpr(ExprKind::kSlice, pos);
  slice->args.resize(4);
  slice->args[1] = std::move(start);
  if (!IsOp(":") && !IsOp("]") && !IsOp(",")) {
    JINJA_ASSIGN(slice->args[2], ParseExpression(true));
  }
  if (SkipOp(":")) {
    if (!IsOp("]") && !IsOp(",")) {
      JINJA_ASSIGN(slice->args[3], ParseExpression(true));
    }
  }
  return slice;
}

Status Parser::ParseCallArgs(Expr* call) {
  AUTAN_TRY(ExpectOp("("));
  bool need_comma = false;
  while (!IsOp(")")) {
    if (need_comma) {
      AUTAN_TRY(ExpectOp(","));
      if (IsOp(")")) break;
    }
    if (IsOp("*") || IsOp("**")) {
      return Fail("%s'*' and '**' arguments are not supported", Where(Cur().pos).c_str());
    }
    if (Cur().type == TokenType::kName && Look().type == TokenType::kOp && Look().text == "=") {
      std::string key = Next().text;
      Next();
      JINJA_ASSIGN(ExprPtr value, ParseExpression(true));
      call->kwargs.emplace_back(std::move(key), std::move(value));
    } else {
      if (!call->kwargs.empty()) {
        return Fail("%spositional argument follows keyword argument", Where(Cur().pos).c_str());
      }
      JINJA_ASSIGN(ExprPtr arg, ParseExpression(true));
      call->args.push_back(std::move(arg));
    }
    need_comma = true;
  }
  Next();
  return {};
}

Result<ExprPtr> Parser::ParseFilterExpr(ExprPtr node) {
  while (true) {
    if (IsOp("|")) {
      JINJA_ASSIGN(node, ParseFilterChain(std::move(node), false));
    } else if (IsName("is")) {
      JINJA_ASSIGN(node, ParseTest(std::move(node)));
    } else if (IsOp("(")) {
      auto call = MakeExpr(ExprKind::kCall, Cur().pos);
      call->args.push_back(std::move(node));
      AUTAN_TRY(ParseCallArgs(call.get()));
      node = std::move(call);
    } else {
      return node;
    }
  }
}

Result<ExprPtr> Parser::ParseFilterChain(ExprPtr node, bool start_inline) {
  while (IsOp("|") || start_inline) {
    if (!start_inline) Next();
    start_inline = false;
    Pos pos = Cur().pos;
    JINJA_ASSIGN(std::string name, ExpectName());
    int index = FindFilter(name);
    if (index < 0) return Fail("%sunknown filter '%s'", Where(pos).c_str(), name.c_str());
    auto e = MakeExpr(ExprKind::kFilter, pos, name);
    e->builtin = index;
    e->args.push_back(std::move(node));
    if (IsOp("(")) AUTAN_TRY(ParseCallArgs(e.get()));
    node = std::move(e);
  }
  return node;
}

Result<ExprPtr> Parser::ParseTest(ExprPtr node) {
  Pos pos = Next().pos;
  bool negated = SkipName("not");
  Pos name_pos = Cur().pos;
  JINJA_ASSIGN(std::string name, ExpectName());
  // `is none`, `is true`, `is false` arrive as names like any other test.
  int index = FindTest(name);
  if (index < 0) return Fail("%sunknown test '%s'", Where(name_pos).c_str(), name.c_str());
  auto e = MakeExpr(ExprKind::kTest, pos, name);
  e->builtin = index;
  e->negated = negated;
  e->args.push_back(std::move(node));
  if (IsOp("(")) {
    AUTAN_TRY(ParseCallArgs(e.get()));
  } else if ((Cur().type == TokenType::kName || Cur().type == TokenType::kString ||
              Cur().type == TokenType::kInt || Cur().type == TokenType::kFloat || IsOp("[") ||
              IsOp("{")) &&
             !IsName("else") && !IsName("or") && !IsName("and")) {
    if (IsName("is")) return Fail("%scannot chain tests with 'is'", Where(Cur().pos).c_str());
    JINJA_ASSIGN(ExprPtr arg, ParsePrimary());
    JINJA_ASSIGN(arg, ParsePostfix(std::move(arg)));
    e->args.push_back(std::move(arg));
  }
  return e;
}

}  // namespace autan::jinja
