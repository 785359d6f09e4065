// The parser's internals, split over parser.cpp (statements) and
// parser_expr.cpp (expressions).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/lexer.h"
#include "tokenizer/jinja/parser.h"
#include "tokenizer/jinja/try.h"

namespace autan::jinja {

using Body = std::vector<NodePtr>;

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Result<Body> ParseAll() {
    JINJA_ASSIGN(Body body, Subparse({}));
    return body;
  }

 private:
  struct DepthGuard {
    explicit DepthGuard(int* d) : depth(d) { ++*depth; }
    ~DepthGuard() { --*depth; }
    int* depth;
  };

  const Token& Cur() const { return tokens_[pos_]; }
  const Token& Look() const { return tokens_[pos_ + 1 < tokens_.size() ? pos_ + 1 : pos_]; }
  const Token& Next() {
    const Token& t = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }
  bool IsOp(std::string_view op) const { return Cur().type == TokenType::kOp && Cur().text == op; }
  bool IsName(std::string_view name) const {
    return Cur().type == TokenType::kName && Cur().text == name;
  }
  bool SkipOp(std::string_view op) {
    if (!IsOp(op)) return false;
    Next();
    return true;
  }
  bool SkipName(std::string_view name) {
    if (!IsName(name)) return false;
    Next();
    return true;
  }

  std::string TokenText(const Token& t) const;

  Error Unexpected(std::string_view expected) const {
    return Fail("%sexpected %.*s, got %s", Where(Cur().pos).c_str(),
                static_cast<int>(expected.size()), expected.data(), TokenText(Cur()).c_str());
  }

  Status ExpectOp(std::string_view op) {
    if (SkipOp(op)) return {};
    return Unexpected("'" + std::string(op) + "'");
  }
  Status Expect(TokenType type, const char* what) {
    if (Cur().type != type) return Unexpected(what);
    Next();
    return {};
  }
  Result<std::string> ExpectName() {
    if (Cur().type != TokenType::kName) return Unexpected("a name");
    return Next().text;
  }

  Status CheckDepth() const {
    if (depth_ > kMaxParseDepth) {
      return Fail("%stemplate nested too deeply (more than %d levels)", Where(Cur().pos).c_str(),
                  kMaxParseDepth);
    }
    return {};
  }

  static ExprPtr MakeExpr(ExprKind kind, Pos pos, std::string name = {}) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->pos = pos;
    e->name = std::move(name);
    return e;
  }

  static NodePtr MakeNode(NodeKind kind, Pos pos) {
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->pos = pos;
    return n;
  }

  static ExprPtr Binary(std::string op, Pos pos, ExprPtr lhs, ExprPtr rhs) {
    auto e = MakeExpr(ExprKind::kBinary, pos, std::move(op));
    e->args.push_back(std::move(lhs));
    e->args.push_back(std::move(rhs));
    return e;
  }

  // The filtered block statements apply their filters to the rendered body,
  // which the interpreter binds to this name (not writable in a template).
  static ExprPtr BodyPlaceholder(Pos pos) { return MakeExpr(ExprKind::kName, pos, "(body)"); }

  // Statements (parser.cpp).
  Result<Body> Subparse(std::vector<std::string_view> end_names);
  Result<Body> ParseStatements(std::vector<std::string_view> end_names, bool drop_needle);
  Result<NodePtr> ParseStatement();
  Result<NodePtr> ParseStatementNamed(const std::string& name, Pos pos);
  Result<NodePtr> ParseIf(Pos pos);
  Status ParseTargets(Node* node, std::vector<std::string_view> end_names, bool with_namespace);
  Result<NodePtr> ParseFor(Pos pos);
  Result<NodePtr> ParseSet(Pos pos);
  Status ParseSignature(Node* node);
  Result<NodePtr> ParseMacro(Pos pos);
  Result<NodePtr> ParseCallBlock(Pos pos);
  Result<NodePtr> ParseFilterBlock(Pos pos);
  Result<NodePtr> ParseWith(Pos pos);
  Result<NodePtr> ParsePrint(Pos pos);

  // Expressions (parser_expr.cpp).
  Result<ExprPtr> ParseExpression(bool with_condexpr);
  Result<ExprPtr> ParseOr();
  Result<ExprPtr> ParseAnd();
  Result<ExprPtr> ParseNot();
  Result<ExprPtr> ParseCompare();
  Result<ExprPtr> ParseMath1();
  Result<ExprPtr> ParseConcat();
  Result<ExprPtr> ParseMath2();
  Result<ExprPtr> ParsePow();
  Result<ExprPtr> ParseUnary(bool with_filter);
  Result<ExprPtr> ParsePrimary();
  Result<ExprPtr> ParseTuple(bool with_condexpr, std::vector<std::string_view> end_names,
                             bool explicit_parens);
  Result<ExprPtr> ParsePostfix(ExprPtr node);
  Result<ExprPtr> ParseSubscribed();
  Result<ExprPtr> ParseFilterExpr(ExprPtr node);
  Result<ExprPtr> ParseFilterChain(ExprPtr node, bool start_inline);
  Result<ExprPtr> ParseTest(ExprPtr node);
  Status ParseCallArgs(Expr* call);

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
  std::vector<std::pair<std::string, Pos>> open_tags_;
};

}  // namespace autan::jinja
