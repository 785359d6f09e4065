#include "tokenizer/jinja/interpreter.h"

#include <utility>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/try.h"

namespace autan::jinja {
namespace {

using Body = std::vector<NodePtr>;

enum class Flow { kNormal, kBreak, kContinue };

// Errors from the value helpers carry no position; these add the node's.
Error At(Pos pos, const std::string& message) { return Error{Where(pos) + message}; }

template <typename T>
Result<T> Located(Pos pos, Result<T> r) {
  if (r.ok()) return r;
  return At(pos, r.error().message);
}

class Interpreter {
 public:
  Interpreter(const Value& context, const RenderOptions& options)
      : context_(context), options_(options), scope_(std::make_shared<Scope>()) {
    budget_.max_string_bytes = options.max_output_bytes;
    budget_.max_list_items = options.max_steps;
    budget_.now = options.now;
  }

  // Macros hold their defining scope, which holds them, and namespaces can hold
  // themselves: emptying both breaks those reference cycles.
  ~Interpreter() {
    for (const NamespacePtr& ns : namespaces_) ns->Clear();
    for (const auto& scope : closure_scopes_) {
      std::unordered_map<std::string, Value> vars;
      vars.swap(scope->vars);
    }
  }

  Result<std::string> Run(const Body& body) {
    std::string out;
    out_ = &out;
    auto flow = ExecBody(body);
    if (!flow.ok()) return flow.error();
    return out;
  }

 private:
  // Counts nesting of evaluation, so recursion depth is bounded by options.
  class DepthGuard {
   public:
    explicit DepthGuard(int* depth) : depth_(depth) { ++*depth_; }
    ~DepthGuard() { --*depth_; }

   private:
    int* depth_;
  };

  // Runs `fn` with `scope` as the current scope, restoring it afterwards.
  template <typename F>
  auto WithScope(std::shared_ptr<Scope> scope, F fn) {
    std::swap(scope, scope_);
    auto r = fn();
    std::swap(scope, scope_);
    return r;
  }

  std::shared_ptr<Scope> ChildScope() const {
    auto s = std::make_shared<Scope>();
    s->parent = scope_;
    return s;
  }

  Status CheckDepth(Pos pos) const {
    if (depth_ > options_.max_depth) {
      return At(pos, "template nesting exceeds the limit of " + std::to_string(options_.max_depth) +
                         " levels");
    }
    return {};
  }

  Result<Value> CheckValueDepth(Pos pos, Result<Value> v) const {
    if (v.ok() && Depth(*v) > kMaxValueDepth) {
      return At(pos, "value nested deeper than " + std::to_string(kMaxValueDepth) + " levels");
    }
    return v;
  }

  Status Step(Pos pos) {
    if (++steps_ > options_.max_steps) {
      return At(pos, "template exceeds the limit of " + std::to_string(options_.max_steps) +
                         " loop iterations and macro calls");
    }
    return {};
  }

  Status Emit(std::string_view text, Pos pos) {
    out_->append(text);
    if (out_->size() > options_.max_output_bytes) {
      return At(pos, "output exceeds the limit of " + std::to_string(options_.max_output_bytes) +
                         " bytes");
    }
    return {};
  }

  Value Lookup(const std::string& name) const {
    for (const Scope* s = scope_.get(); s != nullptr; s = s->parent.get()) {
      auto it = s->vars.find(name);
      if (it != s->vars.end()) return it->second;
    }
    if (const Value* v = context_.as_dict().Find(name)) return *v;
    if (IsGlobalFunction(name) || name == "raise_exception") {
      auto c = std::make_shared<Callable>();
      c->type = Callable::Type::kGlobal;
      c->name = name;
      return Value(CallablePtr(std::move(c)));
    }
    return Value::MakeUndefined("'" + name + "' is undefined");
  }

  // Binds `value` to one name or unpacks it over several, as Python does.
  Status Assign(const Node& node, const Value& value, Scope* scope) {
    if (!node.tuple_target) {
      scope->vars[node.targets[0]] = value;
      return {};
    }
    auto items = Iterate(value);
    if (!items.ok()) return At(node.pos, "cannot unpack non-iterable " + TypeName(value));
    size_t want = node.targets.size();
    if (items->size() != want) {
      return At(node.pos, items->size() > want
                              ? "too many values to unpack (expected " + std::to_string(want) + ")"
                              : "not enough values to unpack (expected " + std::to_string(want) +
                                    ", got " + std::to_string(items->size()) + ")");
    }
    for (size_t i = 0; i < want; ++i) scope->vars[node.targets[i]] = (*items)[i];
    return {};
  }

  Result<std::string> Capture(const Body& body) {
    std::string buffer;
    std::string* saved = out_;
    out_ = &buffer;
    auto flow = ExecBody(body);
    out_ = saved;
    if (!flow.ok()) return flow.error();
    return buffer;
  }

  // Evaluates a filter chain over a rendered block body (filter blocks and
  // `{% set x | f %}`), which the parser refers to as "(body)".
  Result<Value> FilterBody(const Expr& chain, std::string body) {
    auto scope = ChildScope();
    scope->vars["(body)"] = Value(std::move(body));
    return WithScope(scope, [&] { return Eval(chain); });
  }

  Result<Flow> ExecBody(const Body& body) {
    for (const NodePtr& node : body) {
      JINJA_ASSIGN(Flow flow, Exec(*node));
      if (flow != Flow::kNormal) return flow;
    }
    return Flow::kNormal;
  }

  Result<Flow> Exec(const Node& n);
  Result<Flow> ExecFor(const Node& n);
  Result<Flow> ExecSet(const Node& n);
  Result<Value> Eval(const Expr& e);
  Result<Value> EvalCall(const Expr& e, const Value* caller);
  Result<CallArgs> EvalArgs(const Expr& e, size_t first);
  Result<Value> EvalCompare(const Expr& e);
  Result<Value> Invoke(const Value& callee, const CallArgs& args, Pos pos);
  Result<Value> CallMacro(const Callable& macro, const CallArgs& args, Pos pos);

  const Value& context_;
  const RenderOptions& options_;
  Budget budget_;
  std::shared_ptr<Scope> scope_;
  std::string* out_ = nullptr;
  std::vector<NamespacePtr> namespaces_;
  std::vector<std::shared_ptr<Scope>> closure_scopes_;
  size_t steps_ = 0;
  int depth_ = 0;
};

Result<Flow> Interpreter::Exec(const Node& n) {
  DepthGuard guard(&depth_);
  AUTAN_TRY(CheckDepth(n.pos));
  switch (n.kind) {
    case NodeKind::kText:
      AUTAN_TRY(Emit(n.text, n.pos));
      return Flow::kNormal;
    case NodeKind::kOutput: {
      JINJA_ASSIGN(Value v, Eval(*n.expr));
      AUTAN_TRY(Emit(Str(v), n.pos));
      return Flow::kNormal;
    }
    case NodeKind::kIf:
      for (size_t i = 0; i < n.conds.size(); ++i) {
        JINJA_ASSIGN(Value cond, Eval(*n.conds[i]));
        if (Truthy(cond)) return ExecBody(n.bodies[i]);
      }
      return ExecBody(n.else_body);
    case NodeKind::kFor:
      return ExecFor(n);
    case NodeKind::kSet:
    case NodeKind::kSetBlock:
      return ExecSet(n);
    case NodeKind::kMacro: {
      auto macro = std::make_shared<Callable>();
      macro->type = Callable::Type::kMacro;
      macro->name = n.text;
      macro->macro = &n;
      macro->closure = scope_;
      closure_scopes_.push_back(scope_);
      scope_->vars[n.text] = Value(CallablePtr(std::move(macro)));
      return Flow::kNormal;
    }
    case NodeKind::kCallBlock: {
      auto caller = std::make_shared<Callable>();
      caller->type = Callable::Type::kMacro;
      caller->name = "caller";
      caller->macro = &n;
      caller->closure = scope_;
      closure_scopes_.push_back(scope_);
      Value caller_value(CallablePtr(std::move(caller)));
      JINJA_ASSIGN(Value v, EvalCall(*n.expr, &caller_value));
      AUTAN_TRY(Emit(Str(v), n.pos));
      return Flow::kNormal;
    }
    case NodeKind::kFilterBlock: {
      JINJA_ASSIGN(std::string body, Capture(n.body));
      JINJA_ASSIGN(Value v, FilterBody(*n.expr, std::move(body)));
      AUTAN_TRY(Emit(Str(v), n.pos));
      return Flow::kNormal;
    }
    case NodeKind::kWith: {
      auto scope = ChildScope();
      for (size_t i = 0; i < n.targets.size(); ++i) {
        JINJA_ASSIGN(scope->vars[n.targets[i]], Eval(*n.values[i]));
      }
      return WithScope(scope, [&] { return ExecBody(n.body); });
    }
    case NodeKind::kBreak:
      return Flow::kBreak;
    case NodeKind::kContinue:
      return Flow::kContinue;
    case NodeKind::kBody:
      return ExecBody(n.body);
  }
  return Flow::kNormal;
}

Result<Flow> Interpreter::ExecFor(const Node& n) {
  JINJA_ASSIGN(Value iterable, Eval(*n.expr));
  JINJA_ASSIGN(std::vector<Value> items, Located(n.expr->pos, Iterate(iterable)));
  if (n.cond) {  // `for x in xs if cond`: filtered before loop.* is computed
    std::vector<Value> kept;
    for (Value& item : items) {
      AUTAN_TRY(Step(n.pos));
      auto scope = ChildScope();
      AUTAN_TRY(Assign(n, item, scope.get()));
      JINJA_ASSIGN(Value keep, WithScope(scope, [&] { return Eval(*n.cond); }));
      if (Truthy(keep)) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  if (items.empty()) return ExecBody(n.else_body);
  auto list = std::make_shared<ValueList>();
  list->items = std::move(items);
  auto loop = std::make_shared<LoopState>();
  loop->items = list;
  Value loop_value{LoopPtr(loop)};
  for (size_t i = 0; i < list->items.size(); ++i) {
    AUTAN_TRY(Step(n.pos));
    loop->index0 = i;
    auto scope = ChildScope();  // each iteration starts afresh, as in Jinja2
    AUTAN_TRY(Assign(n, list->items[i], scope.get()));
    scope->vars["loop"] = loop_value;
    JINJA_ASSIGN(Flow flow, WithScope(scope, [&] { return ExecBody(n.body); }));
    if (flow == Flow::kBreak) break;
  }
  return Flow::kNormal;
}

Result<Flow> Interpreter::ExecSet(const Node& n) {
  Value value;
  if (n.kind == NodeKind::kSetBlock) {
    JINJA_ASSIGN(std::string body, Capture(n.body));
    if (n.expr) {
      JINJA_ASSIGN(value, FilterBody(*n.expr, std::move(body)));
    } else {
      value = Value(std::move(body));
    }
  } else {
    JINJA_ASSIGN(value, Eval(*n.expr));
  }
  if (!n.text.empty()) {  // {% set ns.attr = value %}
    Value ns = Lookup(n.targets[0]);
    if (ns.kind() != Kind::kNamespace) {
      return At(n.pos, "cannot assign attribute on non-namespace object '" + n.targets[0] + "'");
    }
    ns.as_namespace()->Set(n.text, std::move(value));
    return Flow::kNormal;
  }
  AUTAN_TRY(Assign(n, value, scope_.get()));
  return Flow::kNormal;
}

Result<CallArgs> Interpreter::EvalArgs(const Expr& e, size_t first) {
  CallArgs args;
  for (size_t i = first; i < e.args.size(); ++i) {
    JINJA_ASSIGN(Value v, Eval(*e.args[i]));
    args.positional.push_back(std::move(v));
  }
  for (const auto& [key, expr] : e.kwargs) {
    JINJA_ASSIGN(Value v, Eval(*expr));
    args.keyword.emplace_back(key, std::move(v));
  }
  return args;
}

Result<Value> Interpreter::Eval(const Expr& e) {
  DepthGuard guard(&depth_);
  AUTAN_TRY(CheckDepth(e.pos));
  switch (e.kind) {
    case ExprKind::kLiteral:
      return e.literal;
    case ExprKind::kName:
      return Lookup(e.name);
    case ExprKind::kList:
    case ExprKind::kTuple: {
      JINJA_ASSIGN(CallArgs items, EvalArgs(e, 0));
      return CheckValueDepth(e.pos,
                             Value::List(std::move(items.positional), e.kind == ExprKind::kTuple));
    }
    case ExprKind::kDict: {
      ValueDict dict;
      for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
        JINJA_ASSIGN(Value key, Eval(*e.args[i]));
        if (!key.is_string()) return At(e.args[i]->pos, "dict keys must be strings");
        JINJA_ASSIGN(Value value, Eval(*e.args[i + 1]));
        dict.Set(key.as_string(), std::move(value));
      }
      return CheckValueDepth(e.pos, Value::Dict(std::move(dict)));
    }
    case ExprKind::kGetAttr: {
      JINJA_ASSIGN(Value object, Eval(*e.args[0]));
      if (object.is_undefined()) return At(e.pos, object.undefined_message());
      return GetAttr(object, e.name);
    }
    case ExprKind::kGetItem: {
      JINJA_ASSIGN(Value object, Eval(*e.args[0]));
      JINJA_ASSIGN(Value key, Eval(*e.args[1]));
      if (object.is_undefined()) return At(e.pos, object.undefined_message());
      return Located(e.pos, GetItem(object, key));
    }
    case ExprKind::kSlice: {
      JINJA_ASSIGN(Value object, Eval(*e.args[0]));
      Value parts[3];
      for (int i = 0; i < 3; ++i) {
        if (e.args[i + 1]) {
          JINJA_ASSIGN(parts[i], Eval(*e.args[i + 1]));
        }
      }
      if (object.is_undefined()) return At(e.pos, object.undefined_message());
      return Located(e.pos, Slice(object, parts[0], parts[1], parts[2]));
    }
    case ExprKind::kCall:
      return EvalCall(e, nullptr);
    case ExprKind::kFilter: {
      JINJA_ASSIGN(Value input, Eval(*e.args[0]));
      JINJA_ASSIGN(CallArgs args, EvalArgs(e, 1));
      return CheckValueDepth(e.pos, Located(e.pos, ApplyFilter(e.builtin, input, args, budget_)));
    }
    case ExprKind::kTest: {
      JINJA_ASSIGN(Value input, Eval(*e.args[0]));
      JINJA_ASSIGN(CallArgs args, EvalArgs(e, 1));
      JINJA_ASSIGN(bool pass, Located(e.pos, ApplyTest(e.builtin, input, args)));
      return Value(pass != e.negated);
    }
    case ExprKind::kUnary: {
      JINJA_ASSIGN(Value v, Eval(*e.args[0]));
      if (e.name == "not") return Value(!Truthy(v));
      return Located(e.pos, UnaryOp(e.name, v));
    }
    case ExprKind::kBinary: {
      JINJA_ASSIGN(Value lhs, Eval(*e.args[0]));
      if (e.name == "and") return Truthy(lhs) ? Eval(*e.args[1]) : Result<Value>(lhs);
      if (e.name == "or") return Truthy(lhs) ? Result<Value>(lhs) : Eval(*e.args[1]);
      JINJA_ASSIGN(Value rhs, Eval(*e.args[1]));
      return Located(e.pos, BinaryOp(e.name, lhs, rhs, budget_));
    }
    case ExprKind::kCompare:
      return EvalCompare(e);
    case ExprKind::kCondExpr: {
      JINJA_ASSIGN(Value cond, Eval(*e.args[0]));
      if (Truthy(cond)) return Eval(*e.args[1]);
      if (e.args[2]) return Eval(*e.args[2]);
      return Value::MakeUndefined("the inline if-expression on line " + std::to_string(e.pos.line) +
                                  " evaluated to false and no else section was defined.");
    }
  }
  return Value();
}

Result<Value> Interpreter::EvalCompare(const Expr& e) {
  JINJA_ASSIGN(Value lhs, Eval(*e.args[0]));
  for (size_t i = 0; i < e.ops.size(); ++i) {
    JINJA_ASSIGN(Value rhs, Eval(*e.args[i + 1]));
    const std::string& op = e.ops[i];
    bool pass = false;
    if (op == "==" || op == "!=") {
      pass = Equal(lhs, rhs) == (op == "==");
    } else if (op == "in" || op == "notin") {
      JINJA_ASSIGN(bool in, Located(e.args[i + 1]->pos, Contains(rhs, lhs)));
      pass = in == (op == "in");
    } else {
      bool swap = op == ">" || op == "<=";  // a > b is b < a; a <= b is not b < a
      JINJA_ASSIGN(bool less, Located(e.pos, swap ? Less(rhs, lhs) : Less(lhs, rhs)));
      pass = (op == "<=" || op == ">=") ? !less : less;
    }
    if (!pass) return Value(false);
    lhs = std::move(rhs);
  }
  return Value(true);
}

Result<Value> Interpreter::EvalCall(const Expr& e, const Value* caller) {
  const Expr& callee = *e.args[0];
  Value target;
  if (callee.kind == ExprKind::kGetAttr) {
    // `obj.method(...)`: call str/dict/list methods without binding them first.
    JINJA_ASSIGN(Value object, Eval(*callee.args[0]));
    if (object.is_undefined()) return At(callee.pos, object.undefined_message());
    target = GetAttr(object, callee.name);
  } else {
    JINJA_ASSIGN(target, Eval(callee));
  }
  JINJA_ASSIGN(CallArgs args, EvalArgs(e, 1));
  if (caller != nullptr) args.keyword.emplace_back("caller", *caller);
  return Invoke(target, args, callee.pos);
}

Result<Value> Interpreter::Invoke(const Value& callee, const CallArgs& args, Pos pos) {
  if (callee.is_undefined()) return At(pos, callee.undefined_message());
  if (callee.kind() != Kind::kCallable) {
    return At(pos, "'" + TypeName(callee) + "' object is not callable");
  }
  const Callable& c = callee.as_callable();
  switch (c.type) {
    case Callable::Type::kMacro:
      return CallMacro(c, args, pos);
    case Callable::Type::kMethod: {
      auto r = CallMethod(c.self, c.name, args, budget_);
      if (!r) return At(pos, TypeName(c.self) + "." + c.name + "() is not supported");
      return Located(pos, std::move(*r));
    }
    case Callable::Type::kGlobal:
      if (c.name == "raise_exception") {
        std::string message = args.positional.empty() ? "" : Str(args.positional[0]);
        return At(pos, "raise_exception: " + message);
      }
      JINJA_ASSIGN(Value v, CheckValueDepth(pos, Located(pos, CallGlobal(c.name, args, budget_))));
      if (v.kind() == Kind::kNamespace) namespaces_.push_back(v.as_namespace());
      return v;
  }
  return Value();
}

Result<Value> Interpreter::CallMacro(const Callable& c, const CallArgs& args, Pos pos) {
  AUTAN_TRY(Step(pos));
  const Node& node = *c.macro;
  auto scope = std::make_shared<Scope>();
  scope->parent = c.closure;
  const auto& params = node.targets;
  size_t first_default = params.size() - node.values.size();
  std::vector<Value> varargs;
  for (size_t i = params.size(); i < args.positional.size(); ++i) {
    varargs.push_back(args.positional[i]);
  }
  ValueDict kwargs;
  for (const auto& [key, value] : args.keyword) {
    bool is_param = false;
    for (size_t i = 0; i < params.size(); ++i) {
      if (params[i] != key) continue;
      if (i < args.positional.size()) {
        return At(pos, "macro '" + c.name + "' got multiple values for argument '" + key + "'");
      }
      is_param = true;
    }
    if (!is_param && key != "caller") kwargs.Set(key, value);
    if (key == "caller") scope->vars["caller"] = value;
  }
  scope->vars["varargs"] = Value::List(std::move(varargs), /*is_tuple=*/true);
  scope->vars["kwargs"] = Value::Dict(std::move(kwargs));
  return WithScope(scope, [&]() -> Result<Value> {
    for (size_t i = 0; i < params.size(); ++i) {
      const Value* given = i < args.positional.size() ? &args.positional[i] : nullptr;
      for (const auto& [key, value] : args.keyword) {
        if (key == params[i]) given = &value;
      }
      if (given != nullptr) {
        scope_->vars[params[i]] = *given;
      } else if (i >= first_default) {  // defaults may use earlier parameters
        JINJA_ASSIGN(scope_->vars[params[i]], Eval(*node.values[i - first_default]));
      } else {
        scope_->vars[params[i]] =
            Value::MakeUndefined("parameter '" + params[i] + "' was not provided");
      }
    }
    JINJA_ASSIGN(std::string out, Capture(node.body));
    return Value(std::move(out));
  });
}

}  // namespace

Result<std::string> RenderBody(const std::vector<NodePtr>& body, const Value& context,
                               const RenderOptions& options) {
  return Interpreter(context, options).Run(body);
}

}  // namespace autan::jinja
