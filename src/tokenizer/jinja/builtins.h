// Built-in filters, tests, methods of str/dict/list values, and the global
// functions transformers gives chat templates, with Jinja2's semantics.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "tokenizer/jinja/value.h"

namespace autan::jinja {

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

// Bounds shared by everything that builds values while rendering.
struct Budget {
  size_t max_string_bytes = 0;
  size_t max_list_items = 0;
  std::optional<std::chrono::system_clock::time_point> now;  // strftime_now's clock
};

// Binds call arguments to named parameters the way Python does, so that
// filters and methods can be called positionally or by keyword.
class ArgBinder {
 public:
  // `what` names the callee in messages, e.g. "filter 'indent'".
  ArgBinder(std::string what, const CallArgs& args, std::vector<std::string_view> names);
  Status status() const { return status_; }
  // The argument for parameter i, or nullptr when not given.
  const Value* Get(size_t i) const;
  // Typed getters with defaults; they record an error on a type mismatch.
  int64_t Int(size_t i, int64_t def);
  bool Bool(size_t i, bool def);
  std::string String(size_t i, std::string def);

 private:
  std::string what_;
  std::vector<const Value*> bound_;
  Status status_;
};

// Filters and tests are looked up by name once, at parse time; -1 if unknown.
int FindFilter(std::string_view name);
int FindTest(std::string_view name);
Result<Value> ApplyFilter(int filter, const Value& input, const CallArgs& args,
                          const Budget& budget);
Result<bool> ApplyTest(int test, const Value& input, const CallArgs& args);

// Python's binary operators (+ - * / // % ** and Jinja2's ~ concatenation),
// unary - and +, and the `in` operator (container, item).
Result<Value> BinaryOp(std::string_view op, const Value& a, const Value& b, const Budget& budget);
Result<Value> UnaryOp(std::string_view op, const Value& v);
Result<bool> Contains(const Value& container, const Value& item);

// Python's getattr-then-getitem lookup that Jinja2's `a.b` does; undefined when
// missing.
Value GetAttr(const Value& object, const std::string& name);
// Jinja2's `a[b]`: getitem, then getattr for string keys; undefined when missing.
Result<Value> GetItem(const Value& object, const Value& key);
Result<Value> Slice(const Value& object, const Value& start, const Value& stop, const Value& step);

// Calls a method of a str, dict or list value (`s.strip()`, `d.items()`);
// nullopt when the value has no such method.
std::optional<Result<Value>> CallMethod(const Value& object, const std::string& name,
                                        const CallArgs& args, const Budget& budget);

// Global functions: range, dict, namespace, strftime_now (raise_exception is the
// interpreter's). IsGlobalFunction says whether `name` is one of them.
Result<Value> CallGlobal(const std::string& name, const CallArgs& args, const Budget& budget);
bool IsGlobalFunction(std::string_view name);
// Whether `name` is a method of str values that CallMethod implements.
bool IsStrMethod(std::string_view name);

// Python's str methods shared by filters and methods. Case mapping covers
// ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic.
std::string Strip(std::string_view s, const Value* chars, bool left, bool right);
std::string ToUpper(std::string_view s);
std::string ToLower(std::string_view s);
std::string Capitalize(std::string_view s);                              // str.capitalize()
std::string PyTitle(std::string_view s);                                 // str.title()
std::vector<std::string> SplitLines(std::string_view s, bool keepends);  // str.splitlines()
Result<std::string> Replace(std::string_view s, std::string_view old, std::string_view with,
                            int64_t count, const Budget& budget);
// Python's str.format ({}, {0}, {name}, !r/!s; no format specs) and printf-style
// `fmt % args` (also Jinja2's `format` filter): s r d i f e g x o c and %%, with
// flags, width and precision, %(name)s from a dict.
Result<Value> StrFormat(const std::string& s, const CallArgs& args, const Budget& budget);
Result<Value> PercentFormat(const std::string& fmt, const Value& args, const Budget& budget);

// Jinja2's attribute getter for map/selectattr/sort: "a.b.0" walks items and
// attributes.
Result<Value> GetAttrPath(const Value& item, const std::string& path);
// Iterates a value as Jinja2's for loop does; an error for non-iterables.
Result<std::vector<Value>> Iterate(const Value& v);

}  // namespace autan::jinja
