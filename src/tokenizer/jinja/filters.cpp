// Jinja2's built-in filters and tests, with transformers' tojson.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "tokenizer/jinja/builtin_tests.h"
#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/try.h"

namespace autan::jinja {
namespace {

// Jinja2's select, map, items, ... filters are Python generators.
Value Generator(std::vector<Value> items) {
  return Value::Sequence(std::move(items), SeqKind::kIterator, "generator");
}

// Text filters keep a Markup input Markup, as markupsafe's str methods do.
Value LikeInput(const Value& in, std::string s) {
  return in.is_markup() ? Value::Markup(std::move(s)) : Value(std::move(s));
}

Status CheckUndefined(const Value& v) {
  if (v.is_undefined()) return Error{v.undefined_message()};
  return {};
}

Result<Value> CheckSize(std::string s, const Budget& budget) {
  if (s.size() > budget.max_string_bytes) {
    return Fail("string exceeds the %zu-byte limit", budget.max_string_bytes);
  }
  return Value(std::move(s));
}

// Filters that take only the input.
Result<Value> NoArgs(const char* name, const CallArgs& args) {
  if (!args.positional.empty() || !args.keyword.empty()) {
    return Fail("filter '%s' takes no arguments", name);
  }
  return Value();
}

#define JINJA_NO_ARGS(name) AUTAN_TRY(NoArgs(name, args))

Result<Value> FilterAbs(const Value& in, const CallArgs& args, const Budget&) {
  JINJA_NO_ARGS("abs");
  AUTAN_TRY(CheckUndefined(in));
  if (in.is_float()) return Value(std::fabs(in.as_float()));
  if (in.is_number()) {
    if (in.IntValue() == INT64_MIN) return Fail("integer overflow");
    return Value(static_cast<int64_t>(std::llabs(in.IntValue())));
  }
  return Fail("bad operand type for abs(): '%s'", TypeName(in).c_str());
}

Result<Value> FilterAttr(const Value& in, const CallArgs& args, const Budget&) {
  ArgBinder bind("filter 'attr'", args, {"name"});
  std::string name = bind.String(0, "");
  AUTAN_TRY(bind.status());
  AUTAN_TRY(CheckUndefined(in));
  // Python's getattr only: dict keys are items, not attributes.
  if (in.is_dict()) {
    Value method = GetAttr(in, name);
    if (method.kind() == Kind::kCallable) return method;
    return Value::MakeUndefined("'dict object' has no attribute '" + name + "'");
  }
  return GetAttr(in, name);
}

Result<Value> FilterCapitalize(const Value& in, const CallArgs& args, const Budget&) {
  JINJA_NO_ARGS("capitalize");
  return LikeInput(in, Capitalize(Str(in)));
}

Result<Value> FilterDefault(const Value& in, const CallArgs& args, const Budget&) {
  ArgBinder bind("filter 'default'", args, {"default_value", "boolean"});
  AUTAN_TRY(bind.status());
  bool boolean = bind.Bool(1, false);
  if (in.is_undefined() || (boolean && !Truthy(in))) {
    return bind.Get(0) != nullptr ? *bind.Get(0) : Value(std::string());
  }
  return in;
}

Result<Value> FilterEscape(const Value& in, const CallArgs& args, const Budget& budget) {
  JINJA_NO_ARGS("escape");
  if (in.is_markup()) return in;
  AUTAN_TRY(CheckSize(HtmlEscape(Str(in)), budget));
  return Value::Markup(HtmlEscape(Str(in)));
}

// Jinja2's `"%s, %s" | format(a, b)`: printf-style with the arguments as a
// tuple, or keyword arguments as a mapping.
Result<Value> FilterFormat(const Value& in, const CallArgs& args, const Budget& budget) {
  if (!args.positional.empty() && !args.keyword.empty()) {
    return Fail("can't handle positional and keyword arguments at the same time");
  }
  if (!args.keyword.empty()) {
    ValueDict mapping;
    for (const auto& [k, v] : args.keyword) mapping.Set(k, v);
    return PercentFormat(Str(in), Value::Dict(std::move(mapping)), budget);
  }
  return PercentFormat(Str(in), Value::List(args.positional, /*is_tuple=*/true), budget);
}

Result<Value> FilterFirst(const Value& in, const CallArgs& args, const Budget&) {
  JINJA_NO_ARGS("first");
  auto items = Iterate(in);
  if (!items.ok()) return items.error();
  if (items->empty()) return Value::MakeUndefined("No first item, sequence was empty.");
  return items->front();
}

Result<Value> FilterLast(const Value& in, const CallArgs& args, const Budget&) {
  JINJA_NO_ARGS("last");
  auto items = Iterate(in);
  if (!items.ok()) return items.error();
  if (in.is_list() && in.as_list().kind == SeqKind::kIterator) {
    return Fail("'%s' object is not reversible", TypeName(in).c_str());
  }
  if (items->empty()) return Value::MakeUndefined("No last item, sequence was empty.");
  return items->back();
}

// Python's int(str) with Jinja2's fallback through float(); nullopt if neither parses.
std::optional<double> ParseNumber(const std::string& text, bool* is_int, int64_t* int_value,
                                  int base) {
  std::string s = Strip(text, nullptr, true, true);
  std::string digits;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_' && i > 0 && i + 1 < s.size() && std::isalnum(static_cast<uint8_t>(s[i - 1])) &&
        std::isalnum(static_cast<uint8_t>(s[i + 1]))) {
      continue;
    }
    digits += s[i];
  }
  if (digits.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(digits.c_str(), &end, base);
  if (*end == '\0' && errno == 0 && digits.find_first_of(" \t") == std::string::npos) {
    *is_int = true;
    *int_value = v;
    return static_cast<double>(v);
  }
  *is_int = false;
  double d = std::strtod(digits.c_str(), &end);
  if (*end != '\0' || std::isspace(static_cast<uint8_t>(digits[0]))) return std::nullopt;
  return d;
}

Result<Value> FilterInt(const Value& in, const CallArgs& args, const Budget&) {
  ArgBinder bind("filter 'int'", args, {"default", "base"});
  AUTAN_TRY(bind.status());
  Value def = bind.Get(0) != nullptr ? *bind.Get(0) : Value(0);
  int64_t base = bind.Int(1, 10);
  AUTAN_TRY(bind.status());
  AUTAN_TRY(CheckUndefined(in));
  if (in.is_bool() || in.is_int()) return Value(in.IntValue());
  auto from_double = [&](double d) -> Result<Value> {
    if (std::isnan(d) || std::isinf(d) || std::fabs(d) >= 9.2e18) {
      return Fail("cannot convert float %s to integer", FloatRepr(d).c_str());
    }
    return Value(static_cast<int64_t>(d));
  };
  if (in.is_float()) return from_double(in.as_float());
  if (in.is_string()) {
    bool is_int = false;
    int64_t iv = 0;
    auto d = ParseNumber(in.as_string(), &is_int, &iv, static_cast<int>(base));
    if (!d) return def;
    return is_int ? Value(iv) : from_double(*d);
  }
  return def;
}

Result<Value> FilterFloat(const Value& in, const CallArgs& args, const Budget&) {
  ArgBinder bind("filter 'float'", args, {"default"});
  AUTAN_TRY(bind.status());
  Value def = bind.Get(0) != nullptr ? *bind.Get(0) : Value(0.0);
  AUTAN_TRY(CheckUndefined(in));
  if (in.is_number()) return Value(in.FloatValue());
  if (in.is_string()) {
    bool is_int = false;
    int64_t iv = 0;
    auto d = ParseNumber(in.as_string(), &is_int, &iv, 10);
    return d ? Value(*d) : def;
  }
  return def;
}

Result<Value> FilterIndent(const Value& in, const CallArgs& args, const Budget& budget) {
  ArgBinder bind("filter 'indent'", args, {"width", "first", "blank"});
  AUTAN_TRY(bind.status());
  std::string indention;
  const Value* width = bind.Get(0);
  if (width != nullptr && width->is_string()) {
    indention = width->as_string();
  } else {
    int64_t n = bind.Int(0, 4);
    AUTAN_TRY(bind.status());
    if (n < 0) n = 0;
    if (static_cast<uint64_t>(n) > budget.max_string_bytes) return Fail("indent width too large");
    indention.assign(static_cast<size_t>(n), ' ');
  }
  bool first = bind.Bool(1, false);
  bool blank = bind.Bool(2, false);
  std::vector<std::string> lines = SplitLines(Str(in) + "\n", false);
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) {
      out += '\n';
      if (blank || !lines[i].empty()) out += indention;
    }
    out += lines[i];
    if (out.size() > budget.max_string_bytes) return CheckSize(std::move(out), budget);
  }
  if (first) out = indention + out;
  JINJA_ASSIGN(Value result, CheckSize(std::move(out), budget));
  return LikeInput(in, result.as_string());
}

Result<Value> FilterItems(const Value& in, const CallArgs& args, const Budget&) {
  JINJA_NO_ARGS("items");
  if (in.is_undefined()) return Generator({});
  if (!in.is_dict()) return Fail("Can only get item pairs from a mapping.");
  std::vector<Value> pairs;
  for (const auto& [k, v] : in.as_dict().items()) pairs.push_back(Value::List({Value(k), v}, true));
  return Generator(std::move(pairs));
}

// Items of a sequence, optionally mapped through an attribute path.
Result<std::vector<Value>> ItemsOf(const Value& in, const Value* attribute) {
  auto items = Iterate(in);
  if (!items.ok() || attribute == nullptr) return items;
  for (Value& item : *items) {
    auto v = GetAttrPath(item, Str(*attribute));
    if (!v.ok()) return v.error();
    item = std::move(*v);
  }
  return items;
}

Result<Value> FilterJoin(const Value& in, const CallArgs& args, const Budget& budget) {
  ArgBinder bind("filter 'join'", args, {"d", "attribute"});
  AUTAN_TRY(bind.status());
  std::string sep = bind.Get(0) != nullptr ? Str(*bind.Get(0)) : "";
  auto items = ItemsOf(in, bind.Get(1));
  if (!items.ok()) return items.error();
  std::string out;
  for (size_t i = 0; i < items->size(); ++i) {
    if (i > 0) out += sep;
    out += Str((*items)[i]);
    if (out.size() > budget.max_string_bytes) break;
  }
  return CheckSize(std::move(out), budget);
}

Result<Value> FilterLength(const Value& in, const CallArgs& args, const Budget&) {
  JINJA_NO_ARGS("length");
  switch (in.kind()) {
    case Kind::kUndefined:
      return Value(0);
    case Kind::kString:
      return Value(static_cast<int64_t>(CodePointCount(in.as_string())));
    case Kind::kList:
      if (in.as_list().kind == SeqKind::kIterator) break;
      return Value(static_cast<int64_t>(in.as_list().items.size()));
    case Kind::kDict:
      return Value(static_cast<int64_t>(in.as_dict().size()));
    case Kind::kLoop:
      return Value(static_cast<int64_t>(in.as_loop().items->items.size()));
    default:
      break;
  }
  return Fail("object of type '%s' has no len()", TypeName(in).c_str());
}

Result<Value> FilterList(const Value& in, const CallArgs& args, const Budget&) {
  JINJA_NO_ARGS("list");
  auto items = Iterate(in);
  if (!items.ok()) return items.error();
  return Value::List(std::move(*items));
}

Result<Value> FilterLower(const Value& in, const CallArgs& args, const Budget&) {
  JINJA_NO_ARGS("lower");
  return LikeInput(in, ToLower(Str(in)));
}

Result<Value> FilterUpper(const Value& in, const CallArgs& args, const Budget&) {
  JINJA_NO_ARGS("upper");
  return LikeInput(in, ToUpper(Str(in)));
}

Result<Value> FilterMap(const Value& in, const CallArgs& args, const Budget& budget) {
  if (!Truthy(in)) return Generator({});  // Jinja2 maps over nothing when the input is false
  auto items = Iterate(in);
  if (!items.ok()) return items.error();
  std::vector<Value> out;
  if (args.positional.empty()) {
    ArgBinder bind("filter 'map'", args, {"attribute", "default"});
    AUTAN_TRY(bind.status());
    if (bind.Get(0) == nullptr) return Fail("filter 'map' needs a filter name or attribute=");
    for (const Value& item : *items) {
      auto v = GetAttrPath(item, Str(*bind.Get(0)));
      if (!v.ok()) return v.error();
      if (v->is_undefined() && bind.Get(1) != nullptr) *v = *bind.Get(1);
      out.push_back(std::move(*v));
    }
    return Generator(std::move(out));
  }
  if (!args.positional[0].is_string()) return Fail("filter 'map' expects a filter name");
  int filter = FindFilter(args.positional[0].as_string());
  if (filter < 0) {
    return Fail("unknown filter '%s' in map()", args.positional[0].as_string().c_str());
  }
  CallArgs rest{{args.positional.begin() + 1, args.positional.end()}, args.keyword};
  for (const Value& item : *items) {
    auto v = ApplyFilter(filter, item, rest, budget);
    if (!v.ok()) return v.error();
    out.push_back(std::move(*v));
  }
  return Generator(std::move(out));
}

// select/reject/selectattr/rejectattr share this: keep items whose (attribute)
// value passes the named test (or is truthy), or fails it for reject.
Result<Value> SelectOrReject(const Value& in, const CallArgs& args, bool by_attribute,
                             bool keep_when) {
  size_t next = 0;
  std::string attribute;
  if (by_attribute) {
    if (args.positional.empty() || !args.positional[0].is_string()) {
      return Fail("selectattr/rejectattr need an attribute name");
    }
    attribute = args.positional[next++].as_string();
  }
  int test = -1;
  if (next < args.positional.size()) {
    if (!args.positional[next].is_string()) return Fail("expected a test name");
    test = FindTest(args.positional[next].as_string());
    if (test < 0) return Fail("unknown test '%s'", args.positional[next].as_string().c_str());
    ++next;
  }
  CallArgs rest{
      {args.positional.begin() + static_cast<std::ptrdiff_t>(next), args.positional.end()},
      args.keyword};
  if (!Truthy(in)) return Generator({});  // Jinja2 selects from nothing when the input is false
  auto items = Iterate(in);
  if (!items.ok()) return items.error();
  std::vector<Value> out;
  for (const Value& item : *items) {
    Value probe = item;
    if (by_attribute) {
      auto v = GetAttrPath(item, attribute);
      if (!v.ok()) return v.error();
      probe = std::move(*v);
    }
    bool pass = false;
    if (test >= 0) {
      auto r = ApplyTest(test, probe, rest);
      if (!r.ok()) return r.error();
      pass = *r;
    } else {
      pass = Truthy(probe);
    }
    if (pass == keep_when) out.push_back(item);
  }
  return Generator(std::move(out));
}

Result<Value> FilterSelect(const Value& in, const CallArgs& a, const Budget&) {
  return SelectOrReject(in, a, false, true);
}
Result<Value> FilterReject(const Value& in, const CallArgs& a, const Budget&) {
  return SelectOrReject(in, a, false, false);
}
Result<Value> FilterSelectAttr(const Value& in, const CallArgs& a, const Budget&) {
  return SelectOrReject(in, a, true, true);
}
Result<Value> FilterRejectAttr(const Value& in, const CallArgs& a, const Budget&) {
  return SelectOrReject(in, a, true, false);
}

Result<Value> FilterReplace(const Value& in, const CallArgs& args, const Budget& budget) {
  ArgBinder bind("filter 'replace'", args, {"old", "new", "count"});
  AUTAN_TRY(bind.status());
  if (bind.Get(0) == nullptr || bind.Get(1) == nullptr) {
    return Fail("filter 'replace' needs old and new strings");
  }
  int64_t count = bind.Get(2) != nullptr && !bind.Get(2)->is_none() ? bind.Int(2, -1) : -1;
  AUTAN_TRY(bind.status());
  auto r = Replace(Str(in), Str(*bind.Get(0)), Str(*bind.Get(1)), count, budget);
  if (!r.ok()) return r.error();
  return Value(std::move(*r));
}

Result<Value> FilterReverse(const Value& in, const CallArgs& args, const Budget&) {
  JINJA_NO_ARGS("reverse");
  auto items = Iterate(in);
  if (!items.ok()) return Fail("argument to reverse filter must be iterable");
  std::reverse(items->begin(), items->end());
  if (in.is_string()) {
    std::string s;
    for (const Value& c : *items) s += c.as_string();
    return Value(std::move(s));
  }
  // reversed() of a list is an iterator; a generator is not reversible, so
  // Jinja2 makes a list of it first.
  if (in.is_list() && in.as_list().kind == SeqKind::kIterator)
    return Value::List(std::move(*items));
  return Value::Sequence(std::move(*items), SeqKind::kIterator,
                         in.is_list() && in.as_list().is_plain()
                             ? (in.as_list().is_tuple() ? "reversed" : "list_reverseiterator")
                             : (in.is_dict() ? "dict_reversekeyiterator" : "reversed"));
}

Result<Value> FilterRound(const Value& in, const CallArgs& args, const Budget&) {
  ArgBinder bind("filter 'round'", args, {"precision", "method"});
  int64_t precision = bind.Int(0, 0);
  std::string method = bind.String(1, "common");
  AUTAN_TRY(bind.status());
  AUTAN_TRY(CheckUndefined(in));
  if (!in.is_number()) return Fail("type %s doesn't define __round__ method", TypeName(in).c_str());
  if (method != "common" && method != "ceil" && method != "floor") {
    return Fail("method must be common, ceil or floor");
  }
  if (precision < -308 || precision > 308) return Fail("round precision out of range");
  if (method == "common") {
    if (!in.is_float()) {
      if (precision >= 0) return Value(in.IntValue());
      double p = std::pow(10.0, static_cast<double>(-precision));
      return Value(
          static_cast<int64_t>(std::nearbyint(static_cast<double>(in.IntValue()) / p) * p));
    }
    double x = in.as_float();
    if (precision < 0) {
      double p = std::pow(10.0, static_cast<double>(-precision));
      return Value(std::nearbyint(x / p) * p);
    }
    // As Python's round(): the correctly rounded decimal, ties to even.
    char buf[400];
    std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(precision), x);
    return Value(std::strtod(buf, nullptr));
  }
  double p = std::pow(10.0, static_cast<double>(precision));
  double x = in.FloatValue() * p;
  return Value((method == "ceil" ? std::ceil(x) : std::floor(x)) / p);
}

Result<Value> FilterString(const Value& in, const CallArgs& args, const Budget&) {
  JINJA_NO_ARGS("string");
  return in.is_markup() ? in : Value(Str(in));
}

Result<Value> FilterTitle(const Value& in, const CallArgs& args, const Budget&) {
  JINJA_NO_ARGS("title");
  // Jinja2 capitalizes the runs between [-\s({[<] separators, not str.title().
  std::string s = Str(in);
  std::string out;
  std::string word;
  auto flush = [&]() {
    if (!word.empty()) out += Capitalize(word);
    word.clear();
  };
  size_t pos = 0;
  while (pos < s.size()) {
    size_t start = pos;
    uint32_t cp = DecodeUtf8(s, &pos);
    bool sep = cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<' || IsPyWhitespace(cp);
    if (sep) {
      flush();
      out.append(s, start, pos - start);
    } else {
      word.append(s, start, pos - start);
    }
  }
  flush();
  return LikeInput(in, std::move(out));
}

Result<Value> FilterTojson(const Value& in, const CallArgs& args, const Budget& budget) {
  ArgBinder bind("filter 'tojson'", args, {"ensure_ascii", "indent", "separators", "sort_keys"});
  AUTAN_TRY(bind.status());
  JsonDumpOptions opt;
  opt.ensure_ascii = bind.Bool(0, false);
  opt.sort_keys = bind.Bool(3, false);
  if (const Value* indent = bind.Get(1); indent != nullptr && !indent->is_none()) {
    if (indent->is_string()) {
      opt.use_indent_text = true;
      opt.indent_text = indent->as_string();
    } else {
      opt.indent = static_cast<int>(std::clamp<int64_t>(bind.Int(1, 0), 0, 64));
    }
    opt.item_separator.assign(1, ',');  // Python drops the space once indented
  }
  if (const Value* seps = bind.Get(2); seps != nullptr && !seps->is_none()) {
    if (!seps->is_list() || seps->as_list().items.size() != 2) {
      return Fail("tojson separators must be an (item, key) pair");
    }
    opt.item_separator = Str(seps->as_list().items[0]);
    opt.key_separator = Str(seps->as_list().items[1]);
  }
  AUTAN_TRY(bind.status());
  auto s = JsonDumps(in, opt);
  if (!s.ok()) return s.error();
  return CheckSize(std::move(*s), budget);
}

Result<Value> FilterTrim(const Value& in, const CallArgs& args, const Budget&) {
  ArgBinder bind("filter 'trim'", args, {"chars"});
  AUTAN_TRY(bind.status());
  return LikeInput(in, Strip(Str(in), bind.Get(0), true, true));
}

Result<Value> FilterSafe(const Value& in, const CallArgs& args, const Budget&) {
  JINJA_NO_ARGS("safe");
  return Value::Markup(Str(in));
}

struct FilterEntry {
  std::string_view name;
  FilterFn fn;
};

constexpr FilterEntry kFilters[] = {
    {"abs", FilterAbs},
    {"attr", FilterAttr},
    {"capitalize", FilterCapitalize},
    {"count", FilterLength},
    {"d", FilterDefault},
    {"default", FilterDefault},
    {"dictsort", FilterDictsort},
    {"e", FilterEscape},
    {"escape", FilterEscape},
    {"first", FilterFirst},
    {"float", FilterFloat},
    {"format", FilterFormat},
    {"indent", FilterIndent},
    {"int", FilterInt},
    {"items", FilterItems},
    {"join", FilterJoin},
    {"last", FilterLast},
    {"length", FilterLength},
    {"list", FilterList},
    {"lower", FilterLower},
    {"map", FilterMap},
    {"max", FilterMax},
    {"min", FilterMin},
    {"reject", FilterReject},
    {"rejectattr", FilterRejectAttr},
    {"replace", FilterReplace},
    {"reverse", FilterReverse},
    {"round", FilterRound},
    {"safe", FilterSafe},
    {"select", FilterSelect},
    {"selectattr", FilterSelectAttr},
    {"sort", FilterSort},
    {"string", FilterString},
    {"sum", FilterSum},
    {"title", FilterTitle},
    {"tojson", FilterTojson},
    {"trim", FilterTrim},
    {"unique", FilterUnique},
    {"upper", FilterUpper},
    {"wordcount", FilterWordcount},
};

struct TestEntry {
  std::string_view name;
  TestFn fn;
};

constexpr TestEntry kTests[] = {
    {"boolean", TestBoolean},
    {"callable", TestCallable},
    {"defined", TestDefined},
    {"divisibleby", TestDivisibleBy},
    {"eq", TestEq},
    {"equalto", TestEq},
    {"==", TestEq},
    {"escaped", TestEscaped},
    {"even", TestEven},
    {"false", TestFalse},
    {"filter", TestFilter},
    {"float", TestFloat},
    {"ge", TestGe},
    {">=", TestGe},
    {"gt", TestGt},
    {"greaterthan", TestGt},
    {">", TestGt},
    {"in", TestIn},
    {"integer", TestInteger},
    {"iterable", TestIterable},
    {"le", TestLe},
    {"<=", TestLe},
    {"lower", TestLower},
    {"lt", TestLt},
    {"lessthan", TestLt},
    {"<", TestLt},
    {"mapping", TestMapping},
    {"ne", TestNe},
    {"!=", TestNe},
    {"none", TestNone},
    {"number", TestNumber},
    {"odd", TestOdd},
    {"sameas", TestSameAs},
    {"sequence", TestSequence},
    {"string", TestString},
    {"test", TestTest},
    {"true", TestTrue},
    {"undefined", TestUndefined},
    {"upper", TestUpper},
};

}  // namespace

int FindFilter(std::string_view name) {
  for (size_t i = 0; i < std::size(kFilters); ++i) {
    if (kFilters[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

int FindTest(std::string_view name) {
  for (size_t i = 0; i < std::size(kTests); ++i) {
    if (kTests[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

Result<Value> ApplyFilter(int filter, const Value& input, const CallArgs& args,
                          const Budget& budget) {
  return kFilters[filter].fn(input, args, budget);
}

Result<bool> ApplyTest(int test, const Value& input, const CallArgs& args) {
  return kTests[test].fn(input, args);
}

}  // namespace autan::jinja
