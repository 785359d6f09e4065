// Values of the chat-template language, with Python's semantics as Jinja2 runs
// them: truthiness, equality, ordering, str() and repr(), and json.dumps.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace autan::jinja {

class Value;
struct ValueList;
struct Callable;
struct Node;   // ast.h
struct Scope;  // interpreter.cpp

// The `loop` variable of a for loop; the loop advances `index0` in place, as
// Jinja2's LoopContext does.
struct LoopState {
  std::shared_ptr<const ValueList> items;
  size_t index0 = 0;
};

// Lists and dicts nest at most this deep, so that every recursive walk over a
// value (printing, comparing, freeing) has bounded depth.
inline constexpr uint32_t kMaxValueDepth = 512;

// The Python type a sequence stands for. Templates mostly see lists; the
// others behave differently where Python does.
enum class SeqKind : uint8_t {
  kList,
  kTuple,     // prints as (1, 2)
  kIterator,  // a generator (select, map, ...) or reversed(): one pass, no len(),
              // no indexing, always true, not JSON serializable
  kView,      // dict.items()/keys()/values(): no indexing, not JSON serializable
};

struct ValueList {
  bool is_tuple() const { return kind == SeqKind::kTuple; }
  bool is_plain() const { return kind == SeqKind::kList || kind == SeqKind::kTuple; }

  std::vector<Value> items;
  SeqKind kind = SeqKind::kList;
  const char* type_name = "list";  // Python's name: "tuple", "generator", "dict_items", ...
  uint32_t depth = 1;              // 1 + the deepest item's depth
  mutable bool consumed = false;   // kIterator: a generator yields its items once
};

// An insertion-ordered dict with string keys, like the JSON objects it comes from.
class ValueDict {
 public:
  const Value* Find(std::string_view key) const;
  void Set(std::string key, Value value);
  size_t size() const;  // defined below Value, which it needs complete (clang)
  const std::vector<std::pair<std::string, Value>>& items() const { return items_; }
  uint32_t depth() const { return depth_; }
  void Clear();  // breaks reference cycles through namespaces

 private:
  std::vector<std::pair<std::string, Value>> items_;
  uint32_t depth_ = 1;
  std::unordered_map<std::string, size_t> index_;
};

using ListPtr = std::shared_ptr<const ValueList>;
using DictPtr = std::shared_ptr<const ValueDict>;
using NamespacePtr = std::shared_ptr<ValueDict>;  // namespace() objects are mutable
using CallablePtr = std::shared_ptr<const Callable>;
using LoopPtr = std::shared_ptr<const LoopState>;

enum class Kind : uint8_t {
  kUndefined,
  kNone,
  kBool,
  kInt,
  kFloat,
  kString,
  kList,
  kDict,
  kNamespace,
  kCallable,
  kLoop,
};

struct Undefined {
  std::string message;  // what using it reports, e.g. "'x' is undefined"
};
struct None {};

class Value {
 public:
  Value() : v_(None{}) {}
  static Value MakeUndefined(std::string message) { return Value(Undefined{std::move(message)}); }
  Value(bool b) : v_(b) {}                       // NOLINT: implicit by design
  Value(int64_t i) : v_(i) {}                    // NOLINT
  Value(int i) : v_(static_cast<int64_t>(i)) {}  // NOLINT
  Value(double f) : v_(f) {}                     // NOLINT
  Value(std::string s) : v_(std::move(s)) {}     // NOLINT
  Value(const char* s) : v_(std::string(s)) {}   // NOLINT
  Value(ListPtr l) : v_(std::move(l)) {}         // NOLINT
  Value(DictPtr d) : v_(std::move(d)) {}         // NOLINT
  Value(NamespacePtr n) : v_(std::move(n)) {}    // NOLINT
  Value(CallablePtr c) : v_(std::move(c)) {}     // NOLINT
  Value(LoopPtr l) : v_(std::move(l)) {}         // NOLINT
  // A string marked safe (`|safe`, `|escape`): markupsafe's Markup, which
  // HTML-escapes plain strings added to it.
  static Value Markup(std::string s) {
    Value v(std::move(s));
    v.markup_ = true;
    return v;
  }
  static Value List(std::vector<Value> items, bool is_tuple = false);
  // kIterator or kView sequences, named as Python names their type.
  static Value Sequence(std::vector<Value> items, SeqKind kind, const char* type_name);
  static Value Dict(ValueDict dict);

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  bool is_undefined() const { return kind() == Kind::kUndefined; }
  bool is_none() const { return kind() == Kind::kNone; }
  bool is_bool() const { return kind() == Kind::kBool; }
  bool is_int() const { return kind() == Kind::kInt; }
  bool is_float() const { return kind() == Kind::kFloat; }
  bool is_number() const { return is_bool() || is_int() || is_float(); }  // as Python's
  bool is_string() const { return kind() == Kind::kString; }
  bool is_markup() const { return markup_; }
  bool is_list() const { return kind() == Kind::kList; }
  bool is_dict() const { return kind() == Kind::kDict; }

  const std::string& undefined_message() const { return std::get<Undefined>(v_).message; }
  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const { return std::get<int64_t>(v_); }
  double as_float() const { return std::get<double>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const ValueList& as_list() const { return *std::get<ListPtr>(v_); }
  const ListPtr& list_ptr() const { return std::get<ListPtr>(v_); }
  const ValueDict& as_dict() const { return *std::get<DictPtr>(v_); }
  const NamespacePtr& as_namespace() const { return std::get<NamespacePtr>(v_); }
  const Callable& as_callable() const { return *std::get<CallablePtr>(v_); }
  const LoopState& as_loop() const { return *std::get<LoopPtr>(v_); }

  // Python's int(x) for bool/int, float(x) for any number.
  int64_t IntValue() const { return is_bool() ? (as_bool() ? 1 : 0) : as_int(); }
  double FloatValue() const { return is_float() ? as_float() : static_cast<double>(IntValue()); }

 private:
  explicit Value(Undefined u) : v_(std::move(u)) {}
  std::variant<Undefined, None, bool, int64_t, double, std::string, ListPtr, DictPtr, NamespacePtr,
               CallablePtr, LoopPtr>
      v_;
  bool markup_ = false;
};

inline size_t ValueDict::size() const { return items_.size(); }

// Something a template can call: a macro (or a call block's `caller`), a
// method bound to its object (`d.items`), or a global function (`range`).
struct Callable {
  enum class Type : uint8_t { kMacro, kMethod, kGlobal };
  Type type = Type::kGlobal;
  std::string name;
  Value self;                      // kMethod: the object
  const Node* macro = nullptr;     // kMacro: params in targets/values, body in body
  std::shared_ptr<Scope> closure;  // kMacro: the scope it was defined in
};

// How deeply lists and dicts nest in v (0 for scalars; namespaces count as
// scalars, their contents are released separately).
uint32_t Depth(const Value& v);

// Python's bool(x); undefined is false.
bool Truthy(const Value& v);
// Python's ==, with undefined equal only to undefined as in Jinja2.
bool Equal(const Value& a, const Value& b);
// Python's a < b; an error when the types do not order (str vs int, ...).
Result<bool> Less(const Value& a, const Value& b);

// markupsafe's escape(): & < > " ' as HTML entities.
std::string HtmlEscape(std::string_view s);

// Python's str(x) (undefined prints as ""), and repr(x).
std::string Str(const Value& v);
std::string Repr(const Value& v);
// Python's repr of a float: shortest round-trip digits, 1e+16 style exponents.
std::string FloatRepr(double f);
// The type name Jinja2 uses in messages: "str", "int", "dict", "NoneType", ...
std::string TypeName(const Value& v);

struct JsonDumpOptions {
  int indent = -1;          // < 0: one line
  std::string indent_text;  // used instead of `indent` spaces when non-empty
  bool use_indent_text = false;
  bool sort_keys = false;
  bool ensure_ascii = false;
  std::string item_separator = ", ";  // Python's default; "," once indented
  std::string key_separator = ": ";
};
// Python's json.dumps, as transformers' tojson filter calls it.
Result<std::string> JsonDumps(const Value& v, const JsonDumpOptions& options);

// Converts request JSON (messages, tools, ...) into values; keeps key order.
// Fails on JSON nested deeper than kMaxValueDepth.
Result<Value> FromJson(const nlohmann::ordered_json& j);

// UTF-8 text indexed by code point, as Python strings are.
std::vector<size_t> CodePointOffsets(std::string_view s);  // starts, plus s.size()
size_t CodePointCount(std::string_view s);
bool IsPyWhitespace(uint32_t cp);
// Decodes one code point at s[*pos] and advances; invalid bytes decode as themselves.
uint32_t DecodeUtf8(std::string_view s, size_t* pos);
void AppendUtf8(uint32_t cp, std::string* out);

}  // namespace autan::jinja
