// Syntax tree of a parsed template. Nodes own their children; the tree is
// immutable once parsed and shared by every render.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/jinja/lexer.h"
#include "tokenizer/jinja/value.h"

namespace autan::jinja {

enum class ExprKind : uint8_t {
  kLiteral,   // literal
  kName,      // name
  kList,      // args
  kTuple,     // args
  kDict,      // args: key, value, key, value, ...
  kGetAttr,   // args[0].name
  kGetItem,   // args[0][args[1]]
  kSlice,     // args[0][args[1]:args[2]:args[3]] (null parts omitted)
  kCall,      // args[0](args[1:], kwargs)
  kFilter,    // args[0] | name(args[1:], kwargs); filter_index into the table
  kTest,      // args[0] is [not] name(args[1:], kwargs)
  kUnary,     // op args[0]: "-", "+", "not"
  kBinary,    // args[0] op args[1]: + - * / // % ** ~ and or
  kCompare,   // args[0] ops[0] args[1] ops[1] args[2] ...: == != < > <= >= in notin
  kCondExpr,  // args[1] if args[0] else args[2] (args[2] may be null)
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  Expr() = default;
  Expr(const Expr&) = delete;
  Expr& operator=(const Expr&) = delete;
  // Iterative, so that a hostile `a ~ a ~ a ~ ...` chain cannot overflow the stack.
  ~Expr();

  ExprKind kind = ExprKind::kLiteral;
  Pos pos;
  std::string name;  // name, attribute, filter, test or operator
  Value literal;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;  // kCompare
  bool negated = false;          // kTest: `is not`
  int builtin = -1;              // kFilter/kTest: index in the filter or test table
};

enum class NodeKind : uint8_t {
  kText,         // text
  kOutput,       // {{ expr }}
  kIf,           // conds[i] -> bodies[i]; else_body
  kFor,          // for targets in expr [if cond]: body [else: else_body]
  kSet,          // set targets = expr, or `set ns.attr = expr` (attr non-empty)
  kSetBlock,     // set target [| filter]: body (captures output)
  kMacro,        // macro name(params = defaults): body
  kCallBlock,    // call [(params)] expr: body, which is `caller`
  kFilterBlock,  // filter expr(body-as-text): body
  kWith,         // with targets = values: body
  kBreak,
  kContinue,
  kBody,  // a plain list of nodes (generation blocks, templates)
};

struct Node;
using NodePtr = std::unique_ptr<Node>;

struct Node {
  NodeKind kind = NodeKind::kText;
  Pos pos;
  std::string text;                          // kText; kSet/kSetBlock: namespace attribute
  ExprPtr expr;                              // output value, for iterable, set value, call, filter
  ExprPtr cond;                              // for filter
  std::vector<std::string> targets;          // assignment/loop/macro parameter names
  std::vector<ExprPtr> values;               // macro defaults (aligned to the end), with values
  std::vector<ExprPtr> conds;                // if/elif conditions
  std::vector<std::vector<NodePtr>> bodies;  // if/elif bodies
  std::vector<NodePtr> body;
  std::vector<NodePtr> else_body;
  bool tuple_target = false;  // `for a, b in ...` / `set a, b = ...`
};

}  // namespace autan::jinja
