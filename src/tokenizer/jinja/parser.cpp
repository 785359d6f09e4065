#include <initializer_list>

#include "tokenizer/jinja/parser_internal.h"

namespace autan::jinja {

Expr::~Expr() {
  std::vector<ExprPtr> pending;
  auto take = [&pending](Expr& e) {
    for (auto& arg : e.args) {
      if (arg) pending.push_back(std::move(arg));
    }
    for (auto& kv : e.kwargs) {
      if (kv.second) pending.push_back(std::move(kv.second));
    }
  };
  take(*this);
  while (!pending.empty()) {
    ExprPtr e = std::move(pending.back());
    pending.pop_back();
    take(*e);
  }
}

namespace {

const char* Describe(const Token& t) {
  switch (t.type) {
    case TokenType::kData:
      return "template data";
    case TokenType::kVarBegin:
      return "'{{'";
    case TokenType::kVarEnd:
      return "'}}'";
    case TokenType::kBlockBegin:
      return "'{%'";
    case TokenType::kBlockEnd:
      return "'%}'";
    case TokenType::kEof:
      return "end of template";
    default:
      return nullptr;
  }
}

// The name Jinja2 statements that chat templates cannot use are reported by.
bool IsUnsupportedStatement(std::string_view name) {
  for (std::string_view s : {"block", "extends", "include", "import", "from", "autoescape"}) {
    if (s == name) return true;
  }
  return false;
}

}  // namespace

std::string Parser::TokenText(const Token& t) const {
  if (const char* d = Describe(t)) return d;
  if (t.type == TokenType::kString) return "string";
  return "'" + t.text + "'";
}

Result<Body> Parser::Subparse(std::vector<std::string_view> end_names) {
  Body body;
  while (true) {
    const Token& t = Cur();
    switch (t.type) {
      case TokenType::kData: {
        auto node = MakeNode(NodeKind::kText, t.pos);
        node->text = t.text;
        body.push_back(std::move(node));
        Next();
        break;
      }
      case TokenType::kVarBegin: {
        Pos pos = Next().pos;
        auto node = MakeNode(NodeKind::kOutput, pos);
        JINJA_ASSIGN(node->expr, ParseTuple(true, {}, false));
        AUTAN_TRY(Expect(TokenType::kVarEnd, "'}}'"));
        body.push_back(std::move(node));
        break;
      }
      case TokenType::kBlockBegin: {
        Next();
        for (std::string_view end : end_names) {
          if (IsName(end)) return body;
        }
        JINJA_ASSIGN(NodePtr node, ParseStatement());
        AUTAN_TRY(Expect(TokenType::kBlockEnd, "'%}'"));
        if (node) body.push_back(std::move(node));
        break;
      }
      case TokenType::kEof:
        if (!end_names.empty()) {
          std::string_view closer = end_names.back();  // the end tag: "endfor", not "else"
          for (std::string_view name : end_names) {
            if (name.substr(0, 3) == "end") closer = name;
          }
          return Fail(
              "%sunexpected end of template: '%s' opened at line %d:%d is never closed "
              "(expected '%.*s')",
              Where(t.pos).c_str(), open_tags_.back().first.c_str(), open_tags_.back().second.line,
              open_tags_.back().second.col, static_cast<int>(closer.size()), closer.data());
        }
        return body;
      default:
        return Fail("%sunexpected %s", Where(t.pos).c_str(), TokenText(t).c_str());
    }
  }
}

// Parses `%}` body up to one of `end_names`, leaving the end name current.
Result<Body> Parser::ParseStatements(std::vector<std::string_view> end_names, bool drop_needle) {
  SkipOp(":");
  AUTAN_TRY(Expect(TokenType::kBlockEnd, "'%}'"));
  JINJA_ASSIGN(Body body, Subparse(end_names));
  if (drop_needle) Next();
  return body;
}

Result<NodePtr> Parser::ParseStatement() {
  DepthGuard guard(&depth_);
  AUTAN_TRY(CheckDepth());
  const Token& t = Cur();
  if (t.type != TokenType::kName) {
    return Fail("%stag name expected, got %s", Where(t.pos).c_str(), TokenText(t).c_str());
  }
  std::string name = t.text;
  Pos pos = t.pos;
  open_tags_.emplace_back(name, pos);
  auto r = ParseStatementNamed(name, pos);
  open_tags_.pop_back();
  return r;
}

Result<NodePtr> Parser::ParseStatementNamed(const std::string& name, Pos pos) {
  if (name == "if") return ParseIf(pos);
  if (name == "for") return ParseFor(pos);
  if (name == "set") return ParseSet(pos);
  if (name == "macro") return ParseMacro(pos);
  if (name == "call") return ParseCallBlock(pos);
  if (name == "filter") return ParseFilterBlock(pos);
  if (name == "with") return ParseWith(pos);
  if (name == "print") return ParsePrint(pos);
  if (name == "break" || name == "continue") {
    Next();
    if (loop_depth_ == 0) return Fail("%s'%s' outside of a loop", Where(pos).c_str(), name.c_str());
    return MakeNode(name == "break" ? NodeKind::kBreak : NodeKind::kContinue, pos);
  }
  if (name == "generation") {  // transformers' assistant-mask marker: renders its body
    Next();
    auto node = MakeNode(NodeKind::kBody, pos);
    JINJA_ASSIGN(node->body, ParseStatements({"endgeneration"}, true));
    return node;
  }
  if (IsUnsupportedStatement(name)) {
    return Fail("%sthe '%s' statement is not supported in chat templates", Where(pos).c_str(),
                name.c_str());
  }
  for (std::string_view inner : {"elif", "else", "endif", "endfor", "endset", "endmacro", "endcall",
                                 "endfilter", "endwith", "endgeneration", "endraw"}) {
    if (inner == name) {
      return Fail("%sunexpected '%s': no open block expects it", Where(pos).c_str(), name.c_str());
    }
  }
  return Fail("%sunknown tag '%s'", Where(pos).c_str(), name.c_str());
}

Result<NodePtr> Parser::ParseIf(Pos pos) {
  Next();
  auto node = MakeNode(NodeKind::kIf, pos);
  while (true) {
    JINJA_ASSIGN(ExprPtr cond, ParseTuple(false, {}, false));
    JINJA_ASSIGN(Body body, ParseStatements({"elif", "else", "endif"}, false));
    node->conds.push_back(std::move(cond));
    node->bodies.push_back(std::move(body));
    std::string tag = Next().text;
    if (tag == "elif") continue;
    if (tag == "else") {
      JINJA_ASSIGN(node->else_body, ParseStatements({"endif"}, true));
    }
    return node;
  }
}

// Assignment targets: `a`, `a, b`, `(a, b)`; `ns.attr` where allowed.
Status Parser::ParseTargets(Node* node, std::vector<std::string_view> end_names,
                            bool with_namespace) {
  bool parenthesized = SkipOp("(");
  while (true) {
    if (Cur().type != TokenType::kName) return Unexpected("a variable name");
    std::string name = Next().text;
    if (name == "true" || name == "false" || name == "none" || name == "True" || name == "False" ||
        name == "None") {
      return Fail("%scannot assign to '%s'", Where(Cur().pos).c_str(), name.c_str());
    }
    if (with_namespace && node->targets.empty() && IsOp(".")) {
      Next();
      JINJA_ASSIGN(node->text, ExpectName());
      node->targets.push_back(name);
      return {};
    }
    node->targets.push_back(name);
    if (!SkipOp(",")) break;
    node->tuple_target = true;
    bool at_end = Cur().type == TokenType::kBlockEnd || IsOp(")") || IsOp("=");
    for (std::string_view end : end_names) at_end = at_end || IsName(end);
    if (at_end) break;
  }
  if (parenthesized) {
    AUTAN_TRY(ExpectOp(")"));
    node->tuple_target = true;
  }
  return {};
}

Result<NodePtr> Parser::ParseFor(Pos pos) {
  Next();
  auto node = MakeNode(NodeKind::kFor, pos);
  AUTAN_TRY(ParseTargets(node.get(), {"in"}, false));
  if (!SkipName("in")) return Unexpected("'in'");
  JINJA_ASSIGN(node->expr, ParseTuple(false, {"recursive"}, false));
  if (SkipName("if")) {
    JINJA_ASSIGN(node->cond, ParseExpression(true));
  }
  if (IsName("recursive")) {
    return Fail("%srecursive for loops are not supported", Where(Cur().pos).c_str());
  }
  ++loop_depth_;
  auto body = ParseStatements({"endfor", "else"}, false);
  --loop_depth_;
  if (!body.ok()) return body.error();
  node->body = std::move(*body);
  if (Next().text == "else") {
    JINJA_ASSIGN(node->else_body, ParseStatements({"endfor"}, true));
  }
  return node;
}

Result<NodePtr> Parser::ParseSet(Pos pos) {
  Next();
  auto node = MakeNode(NodeKind::kSet, pos);
  AUTAN_TRY(ParseTargets(node.get(), {}, true));
  if (SkipOp("=")) {
    JINJA_ASSIGN(node->expr, ParseTuple(true, {}, false));
    return node;
  }
  if (node->tuple_target || !node->text.empty()) {
    return Fail("%sa block set assigns a single name", Where(pos).c_str());
  }
  node->kind = NodeKind::kSetBlock;
  if (IsOp("|")) {
    JINJA_ASSIGN(node->expr, ParseFilterChain(BodyPlaceholder(Cur().pos), false));
  }
  JINJA_ASSIGN(node->body, ParseStatements({"endset"}, true));
  return node;
}

// The filtered block statements apply their filters to the rendered body,
// which the interpreter binds to this name (not writable in a template).

Status Parser::ParseSignature(Node* node) {
  AUTAN_TRY(ExpectOp("("));
  while (!IsOp(")")) {
    if (!node->targets.empty()) AUTAN_TRY(ExpectOp(","));
    if (IsOp(")")) break;
    JINJA_ASSIGN(std::string param, ExpectName());
    node->targets.push_back(param);
    if (SkipOp("=")) {
      JINJA_ASSIGN(ExprPtr def, ParseExpression(true));
      node->values.push_back(std::move(def));
    } else if (!node->values.empty()) {
      return Fail("%snon-default argument follows default argument", Where(Cur().pos).c_str());
    }
  }
  return ExpectOp(")");
}

Result<NodePtr> Parser::ParseMacro(Pos pos) {
  Next();
  auto node = MakeNode(NodeKind::kMacro, pos);
  JINJA_ASSIGN(node->text, ExpectName());
  AUTAN_TRY(ParseSignature(node.get()));
  int saved_loop_depth = loop_depth_;
  loop_depth_ = 0;
  auto body = ParseStatements({"endmacro"}, true);
  loop_depth_ = saved_loop_depth;
  if (!body.ok()) return body.error();
  node->body = std::move(*body);
  return node;
}

Result<NodePtr> Parser::ParseCallBlock(Pos pos) {
  Next();
  auto node = MakeNode(NodeKind::kCallBlock, pos);
  if (IsOp("(")) AUTAN_TRY(ParseSignature(node.get()));
  JINJA_ASSIGN(node->expr, ParseExpression(true));
  if (node->expr->kind != ExprKind::kCall) {
    return Fail("%s'call' expects a macro call", Where(pos).c_str());
  }
  JINJA_ASSIGN(node->body, ParseStatements({"endcall"}, true));
  return node;
}

Result<NodePtr> Parser::ParseFilterBlock(Pos pos) {
  Next();
  auto node = MakeNode(NodeKind::kFilterBlock, pos);
  JINJA_ASSIGN(node->expr, ParseFilterChain(BodyPlaceholder(pos), true));
  JINJA_ASSIGN(node->body, ParseStatements({"endfilter"}, true));
  return node;
}

Result<NodePtr> Parser::ParseWith(Pos pos) {
  Next();
  auto node = MakeNode(NodeKind::kWith, pos);
  while (Cur().type != TokenType::kBlockEnd) {
    if (!node->targets.empty()) AUTAN_TRY(ExpectOp(","));
    JINJA_ASSIGN(std::string name, ExpectName());
    AUTAN_TRY(ExpectOp("="));
    JINJA_ASSIGN(ExprPtr value, ParseExpression(true));
    node->targets.push_back(name);
    node->values.push_back(std::move(value));
  }
  JINJA_ASSIGN(node->body, ParseStatements({"endwith"}, true));
  return node;
}

Result<NodePtr> Parser::ParsePrint(Pos pos) {
  Next();
  auto node = MakeNode(NodeKind::kOutput, pos);
  JINJA_ASSIGN(node->expr, ParseTuple(true, {}, false));
  return node;
}

Result<std::vector<NodePtr>> ParseTemplate(std::string_view source) {
  JINJA_ASSIGN(std::vector<Token> tokens, Tokenize(source));
  return Parser(std::move(tokens)).ParseAll();
}

}  // namespace autan::jinja
