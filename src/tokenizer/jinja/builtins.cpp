// Attribute and item access, slicing, operators and global functions.
#include "tokenizer/jinja/builtins.h"

#include <cmath>
#include <ctime>
#include <limits>

namespace autan::jinja {

ArgBinder::ArgBinder(std::string what, const CallArgs& args, std::vector<std::string_view> names)
    : what_(std::move(what)), bound_(names.size(), nullptr) {
  if (args.positional.size() > names.size()) {
    status_ = Fail("%s takes at most %zu argument(s), got %zu", what_.c_str(), names.size(),
                   args.positional.size());
    return;
  }
  for (size_t i = 0; i < args.positional.size(); ++i) bound_[i] = &args.positional[i];
  for (const auto& [key, value] : args.keyword) {
    size_t i = 0;
    while (i < names.size() && names[i] != key) ++i;
    if (i == names.size()) {
      status_ = Fail("%s got an unexpected keyword argument '%s'", what_.c_str(), key.c_str());
      return;
    }
    if (bound_[i] != nullptr) {
      status_ = Fail("%s got multiple values for argument '%s'", what_.c_str(), key.c_str());
      return;
    }
    bound_[i] = &value;
  }
}

const Value* ArgBinder::Get(size_t i) const {
  return i < bound_.size() && bound_[i] != nullptr && !bound_[i]->is_undefined() ? bound_[i]
                                                                                 : nullptr;
}

int64_t ArgBinder::Int(size_t i, int64_t def) {
  const Value* v = Get(i);
  if (v == nullptr) return def;
  if (v->is_bool() || v->is_int()) return v->IntValue();
  if (status_.ok()) {
    status_ = Fail("%s expects an integer, got %s", what_.c_str(), TypeName(*v).c_str());
  }
  return def;
}

bool ArgBinder::Bool(size_t i, bool def) {
  const Value* v = Get(i);
  return v == nullptr ? def : Truthy(*v);
}

std::string ArgBinder::String(size_t i, std::string def) {
  const Value* v = Get(i);
  if (v == nullptr) return def;
  if (v->is_string()) return v->as_string();
  if (status_.ok()) {
    status_ = Fail("%s expects a string, got %s", what_.c_str(), TypeName(*v).c_str());
  }
  return def;
}

namespace {

// Jinja2's object_type_repr: "None", or "dict object".
std::string ObjectTypeRepr(const Value& v) {
  return v.is_none() ? "None" : TypeName(v) + " object";
}

Value NoAttribute(const Value& object, const std::string& name) {
  std::string message = "'";
  message += ObjectTypeRepr(object);
  message += "' has no attribute '";
  message += name;
  message += "'";
  return Value::MakeUndefined(std::move(message));
}

Value NoElement(const Value& object, const Value& key) {
  return Value::MakeUndefined(ObjectTypeRepr(object) + " has no element " + Repr(key));
}

Value BoundMethod(const Value& self, const std::string& name) {
  auto c = std::make_shared<Callable>();
  c->type = Callable::Type::kMethod;
  c->name = name;
  c->self = self;
  return Value(CallablePtr(std::move(c)));
}

bool IsOneOf(std::string_view name, std::initializer_list<std::string_view> names) {
  for (std::string_view n : names) {
    if (n == name) return true;
  }
  return false;
}

// The methods each type exposes to templates; the mutating ones exist in
// Python but the sandbox transformers uses refuses them.
bool IsDictMethod(std::string_view n) {
  return IsOneOf(n, {"get", "items", "keys", "values", "copy"});
}
bool IsUnsafeMutator(std::string_view n) {
  return IsOneOf(n, {"append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse",
                     "update", "popitem", "setdefault", "add", "discard", "fromkeys"});
}

Value LoopAttribute(const LoopState& loop, const Value& self, const std::string& name) {
  const auto& items = loop.items->items;
  size_t n = items.size();
  size_t i = loop.index0;
  if (name == "index0") return Value(static_cast<int64_t>(i));
  if (name == "index") return Value(static_cast<int64_t>(i + 1));
  if (name == "revindex0") return Value(static_cast<int64_t>(n - i - 1));
  if (name == "revindex") return Value(static_cast<int64_t>(n - i));
  if (name == "first") return Value(i == 0);
  if (name == "last") return Value(i + 1 == n);
  if (name == "length") return Value(static_cast<int64_t>(n));
  if (name == "depth") return Value(1);
  if (name == "depth0") return Value(0);
  if (name == "previtem") {
    return i > 0 ? items[i - 1] : Value::MakeUndefined("there is no previous item");
  }
  if (name == "nextitem") {
    return i + 1 < n ? items[i + 1] : Value::MakeUndefined("there is no next item");
  }
  if (name == "cycle") return BoundMethod(self, name);
  return NoAttribute(self, name);
}

}  // namespace

Value GetAttr(const Value& object, const std::string& name) {
  switch (object.kind()) {
    case Kind::kDict: {
      if (IsDictMethod(name)) return BoundMethod(object, name);
      if (IsUnsafeMutator(name)) break;
      const Value* v = object.as_dict().Find(name);
      return v != nullptr ? *v : NoAttribute(object, name);
    }
    case Kind::kNamespace: {
      const Value* v = object.as_namespace()->Find(name);
      return v != nullptr ? *v : NoAttribute(object, name);
    }
    case Kind::kString:
      if (IsStrMethod(name)) return BoundMethod(object, name);
      return NoAttribute(object, name);
    case Kind::kList:
      if ((name == "index" || name == "count") && object.as_list().is_plain()) {
        return BoundMethod(object, name);
      }
      if (IsUnsafeMutator(name)) break;
      return NoAttribute(object, name);
    case Kind::kLoop:
      return LoopAttribute(object.as_loop(), object, name);
    default:
      return NoAttribute(object, name);
  }
  return Value::MakeUndefined("access to attribute '" + name + "' of '" + TypeName(object) +
                              "' object is unsafe.");
}

namespace {

// Python's index normalization; false when out of range.
bool NormalizeIndex(int64_t index, size_t size, size_t* out) {
  int64_t n = static_cast<int64_t>(size);
  if (index < 0) index += n;
  if (index < 0 || index >= n) return false;
  *out = static_cast<size_t>(index);
  return true;
}

}  // namespace

Result<Value> GetItem(const Value& object, const Value& key) {
  bool int_key = key.is_int() || key.is_bool();
  switch (object.kind()) {
    case Kind::kList: {
      size_t i = 0;
      if (int_key && object.as_list().is_plain() &&
          NormalizeIndex(key.IntValue(), object.as_list().items.size(), &i)) {
        return object.as_list().items[i];
      }
      break;
    }
    case Kind::kString: {
      if (!int_key) break;
      const std::string& s = object.as_string();
      std::vector<size_t> offsets = CodePointOffsets(s);
      size_t i = 0;
      if (NormalizeIndex(key.IntValue(), offsets.size() - 1, &i)) {
        std::string c = s.substr(offsets[i], offsets[i + 1] - offsets[i]);
        return object.is_markup() ? Value::Markup(std::move(c)) : Value(std::move(c));
      }
      break;
    }
    case Kind::kDict:
      if (key.is_string()) {
        if (const Value* v = object.as_dict().Find(key.as_string())) return *v;
      }
      break;
    default:
      break;
  }
  if (key.is_string()) return GetAttr(object, key.as_string());
  return NoElement(object, key);
}

Result<Value> Slice(const Value& object, const Value& start_v, const Value& stop_v,
                    const Value& step_v) {
  auto get = [](const Value& v, int64_t* out) -> Status {
    if (v.is_none() || v.is_undefined()) return {};
    if (!v.is_int() && !v.is_bool()) {
      return Fail("slice indices must be integers or None, not %s", TypeName(v).c_str());
    }
    *out = v.IntValue();
    return {};
  };
  if (!(object.is_list() && object.as_list().is_plain()) && !object.is_string()) {
    return Value::MakeUndefined(ObjectTypeRepr(object) + " has no element slice");
  }
  std::vector<size_t> offsets;
  int64_t n = 0;
  if (object.is_string()) {
    offsets = CodePointOffsets(object.as_string());
    n = static_cast<int64_t>(offsets.size()) - 1;
  } else {
    n = static_cast<int64_t>(object.as_list().items.size());
  }
  int64_t step = 1;
  AUTAN_TRY(get(step_v, &step));
  if (step == 0) return Fail("slice step cannot be zero");
  int64_t start = step > 0 ? 0 : n - 1;
  int64_t stop = step > 0 ? n : -1;
  bool has_start = !start_v.is_none() && !start_v.is_undefined();
  bool has_stop = !stop_v.is_none() && !stop_v.is_undefined();
  AUTAN_TRY(get(start_v, &start));
  AUTAN_TRY(get(stop_v, &stop));
  auto adjust = [&](int64_t v) {  // as PySlice_AdjustIndices
    if (v < 0) {
      v += n;
      if (v < 0) v = step < 0 ? -1 : 0;
    } else if (v >= n) {
      v = step < 0 ? n - 1 : n;
    }
    return v;
  };
  if (has_start) start = adjust(start);
  if (has_stop) stop = adjust(stop);
  std::vector<int64_t> picked;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) picked.push_back(i);
  if (object.is_string()) {
    const std::string& s = object.as_string();
    std::string out;
    for (int64_t i : picked) {
      out.append(s, offsets[i], offsets[i + 1] - offsets[i]);
    }
    return object.is_markup() ? Value::Markup(std::move(out)) : Value(std::move(out));
  }
  std::vector<Value> items;
  items.reserve(picked.size());
  for (int64_t i : picked) items.push_back(object.as_list().items[i]);
  return Value::List(std::move(items), object.as_list().is_tuple());
}

Result<std::vector<Value>> Iterate(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined:
      return std::vector<Value>{};
    case Kind::kList: {
      const ValueList& list = v.as_list();
      if (list.kind == SeqKind::kIterator) {
        if (list.consumed) return std::vector<Value>{};  // generators run once
        list.consumed = true;
      }
      return list.items;
    }
    case Kind::kDict: {
      std::vector<Value> keys;
      for (const auto& kv : v.as_dict().items()) keys.emplace_back(kv.first);
      return keys;
    }
    case Kind::kString: {
      std::vector<Value> chars;
      const std::string& s = v.as_string();
      size_t pos = 0;
      while (pos < s.size()) {
        size_t start = pos;
        DecodeUtf8(s, &pos);
        chars.emplace_back(s.substr(start, pos - start));
      }
      return chars;
    }
    default:
      return Fail("'%s' object is not iterable", TypeName(v).c_str());
  }
}

namespace {

Error Unsupported(std::string_view op, const Value& a, const Value& b) {
  return Fail("unsupported operand type(s) for %.*s: '%s' and '%s'", static_cast<int>(op.size()),
              op.data(), TypeName(a).c_str(), TypeName(b).c_str());
}

Result<Value> Repeat(const Value& seq, int64_t times, const Budget& budget) {
  if (times < 0) times = 0;
  uint64_t n = static_cast<uint64_t>(times);
  if (seq.is_string()) {
    const std::string& s = seq.as_string();
    if (!s.empty() && n > budget.max_string_bytes / s.size()) {
      return Fail("string repetition exceeds the %zu-byte limit", budget.max_string_bytes);
    }
    std::string out;
    out.reserve(s.size() * n);
    for (uint64_t i = 0; i < n; ++i) out += s;
    return seq.is_markup() ? Value::Markup(std::move(out)) : Value(std::move(out));
  }
  const auto& items = seq.as_list().items;
  if (!seq.as_list().is_plain())
    return Fail("can't multiply sequence of type '%s'", TypeName(seq).c_str());
  if (!items.empty() && n > budget.max_list_items / items.size()) {
    return Fail("list repetition exceeds the %zu-item limit", budget.max_list_items);
  }
  std::vector<Value> out;
  for (uint64_t i = 0; i < n; ++i) out.insert(out.end(), items.begin(), items.end());
  return Value::List(std::move(out), seq.as_list().is_tuple());
}

Result<Value> Arithmetic(std::string_view op, const Value& a, const Value& b) {
  bool ints = !a.is_float() && !b.is_float();
  if (ints) {
    int64_t x = a.IntValue();
    int64_t y = b.IntValue();
    int64_t r = 0;
    bool overflow = false;
    if (op == "+" || op == "-" || op == "*") {
      overflow = op == "+"   ? __builtin_add_overflow(x, y, &r)
                 : op == "-" ? __builtin_sub_overflow(x, y, &r)
                             : __builtin_mul_overflow(x, y, &r);
      if (overflow) return Fail("integer overflow");
      return Value(r);
    }
    if (op == "//" || op == "%") {
      if (y == 0) return Fail("integer division or modulo by zero");
      if (x == std::numeric_limits<int64_t>::min() && y == -1) return Fail("integer overflow");
      int64_t q = x / y;
      int64_t m = x % y;
      if (m != 0 && ((m < 0) != (y < 0))) {
        --q;
        m += y;
      }
      return Value(op == "//" ? q : m);
    }
    if (op == "**" && y >= 0) {
      if (x == 0 || x == 1) return Value(y == 0 ? int64_t{1} : x);
      if (x == -1) return Value(int64_t{y % 2 == 0 ? 1 : -1});
      int64_t result = 1;  // |x| >= 2 overflows within 63 steps
      for (int64_t i = 0; i < y; ++i) {
        if (__builtin_mul_overflow(result, x, &result)) return Fail("integer overflow");
      }
      return Value(result);
    }
  }
  double x = a.FloatValue();
  double y = b.FloatValue();
  if (op == "+") return Value(x + y);
  if (op == "-") return Value(x - y);
  if (op == "*") return Value(x * y);
  if (op == "/") {
    if (y == 0) return Fail("division by zero");
    return Value(x / y);
  }
  if (op == "**") {
    if (x == 0 && y < 0) return Fail("0.0 cannot be raised to a negative power");
    return Value(std::pow(x, y));
  }
  // Python's float floor division and modulo (floatobject.c _float_div_mod).
  if (y == 0) return Fail("float %s by zero", op == "//" ? "floor division" : "modulo");
  double mod = std::fmod(x, y);
  double div = (x - mod) / y;
  if (mod != 0) {
    if ((y < 0) != (mod < 0)) {
      mod += y;
      div -= 1.0;
    }
  } else {
    mod = std::copysign(0.0, y);
  }
  double floordiv = 0;
  if (div != 0) {
    floordiv = std::floor(div);
    if (div - floordiv > 0.5) floordiv += 1.0;
  } else {
    floordiv = std::copysign(0.0, x / y);
  }
  return Value(op == "//" ? floordiv : mod);
}

}  // namespace

Result<Value> BinaryOp(std::string_view op, const Value& a, const Value& b, const Budget& budget) {
  if (op == "~") {
    std::string s = Str(a) + Str(b);
    if (s.size() > budget.max_string_bytes) {
      return Fail("string exceeds the %zu-byte limit", budget.max_string_bytes);
    }
    return Value(std::move(s));
  }
  if (a.is_undefined()) return Error{a.undefined_message()};
  if (b.is_undefined()) return Error{b.undefined_message()};
  if (a.is_number() && b.is_number()) return Arithmetic(op, a, b);
  if (op == "+") {
    if (a.is_string() && b.is_string() && (a.is_markup() || b.is_markup())) {
      // Markup + str escapes the plain side (markupsafe's __add__/__radd__).
      std::string s = a.is_markup() ? a.as_string() : HtmlEscape(a.as_string());
      s += b.is_markup() ? b.as_string() : HtmlEscape(b.as_string());
      if (s.size() > budget.max_string_bytes) {
        return Fail("string exceeds the %zu-byte limit", budget.max_string_bytes);
      }
      return Value::Markup(std::move(s));
    }
    if (a.is_string() && b.is_string()) {
      if (a.as_string().size() + b.as_string().size() > budget.max_string_bytes) {
        return Fail("string exceeds the %zu-byte limit", budget.max_string_bytes);
      }
      return Value(a.as_string() + b.as_string());
    }
    if (a.is_list() && b.is_list() && a.as_list().is_plain() &&
        a.as_list().kind == b.as_list().kind) {
      if (a.as_list().items.size() + b.as_list().items.size() > budget.max_list_items) {
        return Fail("list exceeds the %zu-item limit", budget.max_list_items);
      }
      std::vector<Value> items = a.as_list().items;
      items.insert(items.end(), b.as_list().items.begin(), b.as_list().items.end());
      return Value::List(std::move(items), a.as_list().is_tuple());
    }
    if (a.is_string() || (a.is_list() && a.as_list().is_plain())) {
      return Fail("can only concatenate %s (not \"%s\") to %s", TypeName(a).c_str(),
                  TypeName(b).c_str(), TypeName(a).c_str());
    }
    return Unsupported(op, a, b);
  }
  if (op == "*") {
    if ((a.is_string() || a.is_list()) && (b.is_int() || b.is_bool())) {
      return Repeat(a, b.IntValue(), budget);
    }
    if ((b.is_string() || b.is_list()) && (a.is_int() || a.is_bool())) {
      return Repeat(b, a.IntValue(), budget);
    }
  }
  if (op == "%" && a.is_string()) return PercentFormat(a.as_string(), b, budget);
  return Unsupported(op, a, b);
}

Result<Value> UnaryOp(std::string_view op, const Value& v) {
  if (v.is_undefined()) return Error{v.undefined_message()};
  if (!v.is_number()) {
    return Fail("bad operand type for unary %.*s: '%s'", static_cast<int>(op.size()), op.data(),
                TypeName(v).c_str());
  }
  if (op == "+") return v.is_float() ? v : Value(v.IntValue());
  if (v.is_float()) return Value(-v.as_float());
  if (v.IntValue() == std::numeric_limits<int64_t>::min()) return Fail("integer overflow");
  return Value(-v.IntValue());
}

Result<bool> Contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Kind::kUndefined:
      return false;
    case Kind::kString:
      if (!item.is_string()) {
        return Fail("'in <string>' requires string as left operand, not %s",
                    TypeName(item).c_str());
      }
      return container.as_string().find(item.as_string()) != std::string::npos;
    case Kind::kList: {
      auto items = Iterate(container);  // consumes a generator, as Python's `in` does
      if (!items.ok()) return items.error();
      for (const Value& v : *items) {
        if (Equal(v, item)) return true;
      }
      return false;
    }
    case Kind::kDict:
      return item.is_string() && container.as_dict().Find(item.as_string()) != nullptr;
    default:
      return Fail("argument of type '%s' is not iterable", TypeName(container).c_str());
  }
}

bool IsGlobalFunction(std::string_view name) {
  return IsOneOf(name, {"range", "dict", "namespace", "strftime_now"});
}

namespace {

// The sandbox transformers renders in refuses longer ranges.
constexpr int64_t kMaxRange = 100000;

Result<Value> Range(const CallArgs& args) {
  if (!args.keyword.empty()) return Fail("range() takes no keyword arguments");
  const auto& p = args.positional;
  if (p.empty() || p.size() > 3) return Fail("range expected 1 to 3 arguments, got %zu", p.size());
  for (const Value& v : p) {
    if (!v.is_int() && !v.is_bool()) {
      return Fail("'%s' object cannot be interpreted as an integer", TypeName(v).c_str());
    }
  }
  int64_t start = p.size() == 1 ? 0 : p[0].IntValue();
  int64_t stop = p.size() == 1 ? p[0].IntValue() : p[1].IntValue();
  int64_t step = p.size() == 3 ? p[2].IntValue() : 1;
  if (step == 0) return Fail("range() arg 3 must not be zero");
  // Computed in floating point first so that extreme bounds cannot overflow.
  double span =
      (static_cast<double>(stop) - static_cast<double>(start)) / static_cast<double>(step);
  if (span > static_cast<double>(kMaxRange)) {
    return Fail("Range too big. The sandbox blocks ranges larger than MAX_RANGE (%lld).",
                static_cast<long long>(kMaxRange));
  }
  std::vector<Value> items;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) items.emplace_back(i);
  return Value::List(std::move(items));
}

Result<ValueDict> DictFromArgs(const char* what, const CallArgs& args) {
  ValueDict dict;
  if (args.positional.size() > 1) {
    return Fail("%s expected at most 1 argument, got %zu", what, args.positional.size());
  }
  if (args.positional.size() == 1) {
    const Value& init = args.positional[0];
    if (init.is_dict()) {
      for (const auto& [k, v] : init.as_dict().items()) dict.Set(k, v);
    } else if (init.is_list()) {
      for (const Value& pair : init.as_list().items) {
        if (!pair.is_list() || pair.as_list().items.size() != 2 ||
            !pair.as_list().items[0].is_string()) {
          return Fail("%s: expected a sequence of (string key, value) pairs", what);
        }
        dict.Set(pair.as_list().items[0].as_string(), pair.as_list().items[1]);
      }
    } else {
      return Fail("%s: cannot build a mapping from %s", what, TypeName(init).c_str());
    }
  }
  for (const auto& [k, v] : args.keyword) dict.Set(k, v);
  return dict;
}

Result<Value> StrftimeNow(const CallArgs& args, const Budget& budget) {
  ArgBinder bind("strftime_now()", args, {"format"});
  std::string format = bind.String(0, "");
  AUTAN_TRY(bind.status());
  if (bind.Get(0) == nullptr) return Fail("strftime_now() missing required argument 'format'");
  auto now = budget.now.value_or(std::chrono::system_clock::now());
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  localtime_r(&t, &tm);
  if (format.empty()) return Value(std::string());
  // strftime reports 0 both for "too small" and for an empty result; a prefix
  // character tells them apart.
  std::string with_marker = "x" + format;
  for (size_t size = 256; size <= 65536; size *= 4) {
    std::string buf(size, '\0');
    size_t n = std::strftime(buf.data(), buf.size(), with_marker.c_str(), &tm);
    if (n > 0) return Value(buf.substr(1, n - 1));
  }
  return Fail("strftime_now(): formatted date too long");
}

}  // namespace

Result<Value> CallGlobal(const std::string& name, const CallArgs& args, const Budget& budget) {
  if (name == "range") return Range(args);
  if (name == "dict") {
    auto d = DictFromArgs("dict()", args);
    if (!d.ok()) return d.error();
    return Value::Dict(std::move(*d));
  }
  if (name == "namespace") {
    auto d = DictFromArgs("namespace()", args);
    if (!d.ok()) return d.error();
    return Value(NamespacePtr(std::make_shared<ValueDict>(std::move(*d))));
  }
  if (name == "strftime_now") return StrftimeNow(args, budget);
  return Fail("'%s' is undefined", name.c_str());
}

std::string Strip(std::string_view s, const Value* chars, bool left, bool right) {
  std::vector<uint32_t> set;
  bool custom = chars != nullptr && chars->is_string();
  if (custom) {
    size_t p = 0;
    while (p < chars->as_string().size()) set.push_back(DecodeUtf8(chars->as_string(), &p));
  }
  auto strip_it = [&](uint32_t cp) {
    if (!custom) return IsPyWhitespace(cp);
    for (uint32_t c : set) {
      if (c == cp) return true;
    }
    return false;
  };
  std::vector<size_t> offsets = CodePointOffsets(s);
  size_t begin = 0;
  size_t end = offsets.size() - 1;
  auto cp_at = [&](size_t i) {
    size_t p = offsets[i];
    return DecodeUtf8(s, &p);
  };
  if (left) {
    while (begin < end && strip_it(cp_at(begin))) ++begin;
  }
  if (right) {
    while (end > begin && strip_it(cp_at(end - 1))) --end;
  }
  return std::string(s.substr(offsets[begin], offsets[end] - offsets[begin]));
}

}  // namespace autan::jinja
