// Methods of str, dict and list values (Python's, minus the mutating ones the
// sandbox refuses), and the string helpers filters share.
#include <algorithm>

#include "tokenizer/jinja/builtins.h"

namespace autan::jinja {
namespace {

uint32_t UpperCp(uint32_t c) {
  if (c < 0x80) return c >= 'a' && c <= 'z' ? c - 32 : c;
  if (c >= 0xe0 && c <= 0xfe && c != 0xf7) return c - 32;
  if (c == 0xff) return 0x178;
  if (c == 0xb5) return 0x39c;
  if ((c >= 0x100 && c <= 0x12f) || (c >= 0x132 && c <= 0x137) || (c >= 0x14a && c <= 0x177)) {
    return c & ~1u;
  }
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e)) return c % 2 == 0 ? c - 1 : c;
  if (c >= 0x3b1 && c <= 0x3c9) return c == 0x3c2 ? 0x3a3 : c - 32;
  if (c >= 0x430 && c <= 0x44f) return c - 32;
  if (c >= 0x450 && c <= 0x45f) return c - 80;
  return c;
}

uint32_t LowerCp(uint32_t c) {
  if (c < 0x80) return c >= 'A' && c <= 'Z' ? c + 32 : c;
  if (c >= 0xc0 && c <= 0xde && c != 0xd7) return c + 32;
  if (c == 0x178) return 0xff;
  if ((c >= 0x100 && c <= 0x12f) || (c >= 0x132 && c <= 0x137) || (c >= 0x14a && c <= 0x177)) {
    return c | 1u;
  }
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e)) return c % 2 == 1 ? c + 1 : c;
  if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2) return c + 32;
  if (c >= 0x410 && c <= 0x42f) return c + 32;
  if (c >= 0x400 && c <= 0x40f) return c + 80;
  return c;
}

bool IsCased(uint32_t c) { return UpperCp(c) != c || LowerCp(c) != c || c == 0xdf; }

template <typename F>
std::string MapCodePoints(std::string_view s, F f) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) AppendUtf8(f(DecodeUtf8(s, &pos)), &out);
  return out;
}

}  // namespace

std::string ToUpper(std::string_view s) { return MapCodePoints(s, UpperCp); }
std::string ToLower(std::string_view s) { return MapCodePoints(s, LowerCp); }

std::string Capitalize(std::string_view s) {
  bool first = true;
  return MapCodePoints(s, [&first](uint32_t c) {
    uint32_t r = first ? UpperCp(c) : LowerCp(c);
    first = false;
    return r;
  });
}

std::string PyTitle(std::string_view s) {
  bool prev_cased = false;
  return MapCodePoints(s, [&prev_cased](uint32_t c) {
    bool cased = IsCased(c);
    uint32_t r = !cased ? c : prev_cased ? LowerCp(c) : UpperCp(c);
    prev_cased = cased;
    return r;
  });
}

Result<std::string> Replace(std::string_view s, std::string_view old, std::string_view with,
                            int64_t count, const Budget& budget) {
  std::string out;
  auto append = [&](std::string_view part) -> Status {
    out.append(part);
    if (out.size() > budget.max_string_bytes) {
      return Fail("string exceeds the %zu-byte limit", budget.max_string_bytes);
    }
    return {};
  };
  int64_t done = 0;
  if (old.empty()) {  // Python inserts `with` around every character
    size_t pos = 0;
    while (pos <= s.size()) {
      if (count < 0 || done < count) {
        AUTAN_TRY(append(with));
        ++done;
      }
      if (pos == s.size()) break;
      size_t start = pos;
      DecodeUtf8(s, &pos);
      AUTAN_TRY(append(s.substr(start, pos - start)));
    }
    return out;
  }
  size_t pos = 0;
  while (count < 0 || done < count) {
    size_t hit = s.find(old, pos);
    if (hit == std::string_view::npos) break;
    AUTAN_TRY(append(s.substr(pos, hit - pos)));
    AUTAN_TRY(append(with));
    pos = hit + old.size();
    ++done;
  }
  AUTAN_TRY(append(s.substr(pos)));
  return out;
}

Result<Value> GetAttrPath(const Value& item, const std::string& path) {
  Value cur = item;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (cur.is_undefined()) return Error{cur.undefined_message()};
    bool digits = !part.empty() && std::all_of(part.begin(), part.end(),
                                               [](char c) { return c >= '0' && c <= '9'; });
    Value key =
        digits && part.size() < 18 ? Value(static_cast<int64_t>(std::stoll(part))) : Value(part);
    auto next = GetItem(cur, key);
    if (!next.ok()) return next.error();
    cur = std::move(*next);
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

std::vector<std::string> SplitLines(std::string_view s, bool keepends) {
  std::vector<std::string> lines;
  size_t line_start = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t start = pos;
    uint32_t cp = DecodeUtf8(s, &pos);
    bool brk = cp == '\n' || cp == '\r' || cp == 0x0b || cp == 0x0c || (cp >= 0x1c && cp <= 0x1e) ||
               cp == 0x85 || cp == 0x2028 || cp == 0x2029;
    if (!brk) continue;
    if (cp == '\r' && pos < s.size() && s[pos] == '\n') ++pos;
    lines.emplace_back(s.substr(line_start, (keepends ? pos : start) - line_start));
    line_start = pos;
  }
  if (line_start < s.size()) lines.emplace_back(s.substr(line_start));
  return lines;
}

namespace {

Value StringList(std::vector<std::string> parts) {
  std::vector<Value> items;
  items.reserve(parts.size());
  for (auto& p : parts) items.emplace_back(std::move(p));
  return Value::List(std::move(items));
}

// Python's str.split / str.rsplit.
Result<Value> Split(const std::string& s, const CallArgs& args, bool from_right) {
  ArgBinder bind(from_right ? "str.rsplit()" : "str.split()", args, {"sep", "maxsplit"});
  AUTAN_TRY(bind.status());
  int64_t maxsplit = bind.Int(1, -1);
  AUTAN_TRY(bind.status());
  const Value* sep_v = bind.Get(0);
  std::vector<std::string> parts;
  if (sep_v != nullptr && !sep_v->is_none()) {
    if (!sep_v->is_string()) return Fail("must be str or None, not %s", TypeName(*sep_v).c_str());
    const std::string& sep = sep_v->as_string();
    if (sep.empty()) return Fail("empty separator");
    if (!from_right) {
      size_t pos = 0;
      for (int64_t n = 0; maxsplit < 0 || n < maxsplit; ++n) {
        size_t hit = s.find(sep, pos);
        if (hit == std::string::npos) break;
        parts.push_back(s.substr(pos, hit - pos));
        pos = hit + sep.size();
      }
      parts.push_back(s.substr(pos));
    } else {
      size_t end = s.size();
      for (int64_t n = 0; maxsplit < 0 || n < maxsplit; ++n) {
        if (end < sep.size()) break;
        size_t hit = s.rfind(sep, end - sep.size());
        if (hit == std::string::npos) break;
        parts.push_back(s.substr(hit + sep.size(), end - hit - sep.size()));
        end = hit;
      }
      parts.push_back(s.substr(0, end));
      std::reverse(parts.begin(), parts.end());
    }
    return StringList(std::move(parts));
  }
  // Whitespace runs; leading/trailing whitespace yields no empty strings.
  std::vector<std::pair<size_t, size_t>> words;  // byte ranges
  size_t pos = 0;
  while (pos < s.size()) {
    size_t start = pos;
    bool ws = IsPyWhitespace(DecodeUtf8(s, &pos));
    if (ws) continue;
    size_t end = pos;
    while (end < s.size()) {
      size_t next = end;
      if (IsPyWhitespace(DecodeUtf8(s, &next))) break;
      end = next;
    }
    words.emplace_back(start, end);
    pos = end;
  }
  size_t n = words.size();
  if (maxsplit < 0 || static_cast<size_t>(maxsplit) + 1 >= n) {
    for (auto [a, b] : words) parts.push_back(s.substr(a, b - a));
    return StringList(std::move(parts));
  }
  size_t keep = static_cast<size_t>(maxsplit);
  if (!from_right) {
    for (size_t i = 0; i < keep; ++i)
      parts.push_back(s.substr(words[i].first, words[i].second - words[i].first));
    parts.push_back(s.substr(words[keep].first));
  } else {
    parts.push_back(s.substr(0, words[n - keep - 1].second));
    for (size_t i = n - keep; i < n; ++i)
      parts.push_back(s.substr(words[i].first, words[i].second - words[i].first));
  }
  return StringList(std::move(parts));
}

Result<Value> Pad(const std::string& s, const CallArgs& args, const std::string& method,
                  const Budget& budget) {
  ArgBinder bind("str." + method + "()", args, {"width", "fillchar"});
  int64_t width = bind.Int(0, 0);
  std::string fill = bind.String(1, method == "zfill" ? "0" : " ");
  AUTAN_TRY(bind.status());
  if (CodePointCount(fill) != 1)
    return Fail("The fill character must be exactly one character long");
  int64_t len = static_cast<int64_t>(CodePointCount(s));
  if (width <= len) return Value(s);
  if (static_cast<uint64_t>(width) * fill.size() > budget.max_string_bytes) {
    return Fail("string exceeds the size limit");
  }
  size_t total = static_cast<size_t>(width - len);
  size_t left = method == "rjust" || method == "zfill" ? total
                : method == "center" ? total / 2 + (total & static_cast<size_t>(width) & 1)
                                     : 0;
  auto repeat = [&](size_t n) {
    std::string r;
    for (size_t i = 0; i < n; ++i) r += fill;
    return r;
  };
  if (method == "zfill" && !s.empty() && (s[0] == '-' || s[0] == '+')) {
    return Value(s.substr(0, 1) + repeat(left) + s.substr(1));
  }
  return Value(repeat(left) + s + repeat(total - left));
}

bool AllCp(const std::string& s, bool (*pred)(uint32_t)) {
  if (s.empty()) return false;
  size_t pos = 0;
  while (pos < s.size()) {
    if (!pred(DecodeUtf8(s, &pos))) return false;
  }
  return true;
}

bool IsDigitCp(uint32_t c) { return c >= '0' && c <= '9'; }
bool IsAlphaCp(uint32_t c) {
  return (c < 0x80 && std::isalpha(static_cast<int>(c))) || (c >= 0x80 && IsCased(c));
}
bool IsAlnumCp(uint32_t c) { return IsDigitCp(c) || IsAlphaCp(c); }

Result<size_t> SubIndex(const std::string& s, const CallArgs& args, const char* what,
                        bool reverse) {
  if (args.positional.size() != 1 || !args.positional[0].is_string()) {
    return Fail("str.%s() takes one string argument", what);
  }
  const std::string& sub = args.positional[0].as_string();
  size_t hit = reverse ? s.rfind(sub) : s.find(sub);
  return hit == std::string::npos ? hit : CodePointCount(std::string_view(s).substr(0, hit));
}

Result<Value> StrMethod(const std::string& s, const std::string& name, const CallArgs& args,
                        const Budget& budget) {
  auto no_args = [&]() -> Status {
    if (!args.positional.empty() || !args.keyword.empty()) {
      return Fail("str.%s() takes no arguments", name.c_str());
    }
    return {};
  };
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    ArgBinder bind("str." + name + "()", args, {"chars"});
    AUTAN_TRY(bind.status());
    return Value(Strip(s, bind.Get(0), name != "rstrip", name != "lstrip"));
  }
  if (name == "split" || name == "rsplit") return Split(s, args, name == "rsplit");
  if (name == "splitlines") {
    ArgBinder bind("str.splitlines()", args, {"keepends"});
    AUTAN_TRY(bind.status());
    return StringList(SplitLines(s, bind.Bool(0, false)));
  }
  if (name == "startswith" || name == "endswith") {
    if (args.positional.size() != 1) return Fail("str.%s() takes one argument", name.c_str());
    const Value& arg = args.positional[0];
    std::vector<Value> options = arg.is_list() ? arg.as_list().items : std::vector<Value>{arg};
    for (const Value& o : options) {
      if (!o.is_string()) return Fail("%s first arg must be str or a tuple of str", name.c_str());
      const std::string& p = o.as_string();
      bool hit = name == "startswith"
                     ? s.compare(0, p.size(), p) == 0
                     : s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
      if (hit) return Value(true);
    }
    return Value(false);
  }
  if (name == "upper" || name == "lower" || name == "casefold" || name == "title" ||
      name == "capitalize" || name == "swapcase") {
    AUTAN_TRY(no_args());
    if (name == "upper") return Value(ToUpper(s));
    if (name == "title") return Value(PyTitle(s));
    if (name == "capitalize") return Value(Capitalize(s));
    if (name == "swapcase") {
      return Value(
          MapCodePoints(s, [](uint32_t c) { return UpperCp(c) != c ? UpperCp(c) : LowerCp(c); }));
    }
    return Value(ToLower(s));
  }
  if (name == "replace") {
    ArgBinder bind("str.replace()", args, {"old", "new", "count"});
    std::string old = bind.String(0, "");
    std::string with = bind.String(1, "");
    int64_t count = bind.Int(2, -1);
    AUTAN_TRY(bind.status());
    if (bind.Get(0) == nullptr || bind.Get(1) == nullptr)
      return Fail("str.replace() needs 2 arguments");
    auto r = Replace(s, old, with, count, budget);
    if (!r.ok()) return r.error();
    return Value(std::move(*r));
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex") {
    auto at = SubIndex(s, args, name.c_str(), name[0] == 'r');
    if (!at.ok()) return at.error();
    if (*at == std::string::npos) {
      if (name[0] == 'r' ? name == "rindex" : name == "index") return Fail("substring not found");
      return Value(-1);
    }
    return Value(static_cast<int64_t>(*at));
  }
  if (name == "count") {
    if (args.positional.size() != 1 || !args.positional[0].is_string()) {
      return Fail("str.count() takes one string argument");
    }
    const std::string& sub = args.positional[0].as_string();
    if (sub.empty()) return Value(static_cast<int64_t>(CodePointCount(s) + 1));
    int64_t n = 0;
    for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
    return Value(n);
  }
  if (name == "join") {
    if (args.positional.size() != 1) return Fail("str.join() takes one argument");
    auto items = Iterate(args.positional[0]);
    if (!items.ok()) return items.error();
    std::string out;
    for (size_t i = 0; i < items->size(); ++i) {
      if (!(*items)[i].is_string()) {
        return Fail("sequence item %zu: expected str instance, %s found", i,
                    TypeName((*items)[i]).c_str());
      }
      if (i > 0) out += s;
      out += (*items)[i].as_string();
      if (out.size() > budget.max_string_bytes) return Fail("string exceeds the size limit");
    }
    return Value(std::move(out));
  }
  if (name == "format") return StrFormat(s, args, budget);
  if (name == "isdigit" || name == "isnumeric" || name == "isdecimal" || name == "isalpha" ||
      name == "isalnum" || name == "isspace") {
    AUTAN_TRY(no_args());
    bool (*pred)(uint32_t) = name == "isalpha"   ? IsAlphaCp
                             : name == "isalnum" ? IsAlnumCp
                             : name == "isspace" ? IsPyWhitespace
                                                 : IsDigitCp;
    return Value(AllCp(s, pred));
  }
  if (name == "islower" || name == "isupper" || name == "istitle") {
    AUTAN_TRY(no_args());
    bool has_cased = ToLower(s) != ToUpper(s);
    if (name == "istitle") return Value(has_cased && PyTitle(s) == s);
    return Value(has_cased && (name == "islower" ? ToLower(s) : ToUpper(s)) == s);
  }
  if (name == "removeprefix" || name == "removesuffix") {
    if (args.positional.size() != 1 || !args.positional[0].is_string()) {
      return Fail("str.%s() takes one string argument", name.c_str());
    }
    const std::string& a = args.positional[0].as_string();
    if (name == "removeprefix")
      return Value(s.compare(0, a.size(), a) == 0 ? s.substr(a.size()) : s);
    bool ends = s.size() >= a.size() && s.compare(s.size() - a.size(), a.size(), a) == 0;
    return Value(ends ? s.substr(0, s.size() - a.size()) : s);
  }
  if (name == "center" || name == "ljust" || name == "rjust" || name == "zfill") {
    return Pad(s, args, name, budget);
  }
  if (name == "partition" || name == "rpartition") {
    if (args.positional.size() != 1 || !args.positional[0].is_string() ||
        args.positional[0].as_string().empty()) {
      return Fail("str.%s() takes one non-empty string argument", name.c_str());
    }
    const std::string& sep = args.positional[0].as_string();
    size_t hit = name == "partition" ? s.find(sep) : s.rfind(sep);
    if (hit == std::string::npos) {
      return name == "partition" ? Value::List({Value(s), Value(""), Value("")}, true)
                                 : Value::List({Value(""), Value(""), Value(s)}, true);
    }
    return Value::List({Value(s.substr(0, hit)), Value(sep), Value(s.substr(hit + sep.size()))},
                       true);
  }
  return Fail("str.%s() is not supported", name.c_str());
}

Result<Value> DictMethod(const Value& d, const std::string& name, const CallArgs& args) {
  const ValueDict& dict = d.as_dict();
  if (name == "get") {
    ArgBinder bind("dict.get()", args, {"key", "default"});
    AUTAN_TRY(bind.status());
    if (args.positional.empty()) return Fail("get expected at least 1 argument, got 0");
    const Value& key = args.positional[0];
    const Value* found = key.is_string() ? dict.Find(key.as_string()) : nullptr;
    if (found != nullptr) return *found;
    return bind.Get(1) != nullptr ? *bind.Get(1) : Value();
  }
  if (!args.positional.empty() || !args.keyword.empty()) {
    return Fail("dict.%s() takes no arguments", name.c_str());
  }
  if (name == "copy") return d;
  std::vector<Value> out;
  for (const auto& [k, v] : dict.items()) {
    if (name == "items") {
      out.push_back(Value::List({Value(k), v}, true));
    } else {
      out.push_back(name == "keys" ? Value(k) : v);
    }
  }
  const char* type = name == "items" ? "dict_items" : name == "keys" ? "dict_keys" : "dict_values";
  return Value::Sequence(std::move(out), SeqKind::kView, type);
}

// markupsafe's Markup methods: string arguments (and join's items) are escaped
// first, and text results come back as Markup.
Result<Value> MarkupMethod(const std::string& s, const std::string& name, const CallArgs& args,
                           const Budget& budget) {
  auto escape = [](const Value& v) {
    return v.is_string() && !v.is_markup() ? Value(HtmlEscape(v.as_string())) : v;
  };
  CallArgs escaped;
  for (const Value& v : args.positional) {
    if (name == "join" && v.is_list()) {
      std::vector<Value> items;
      for (const Value& item : v.as_list().items) items.push_back(escape(item));
      escaped.positional.push_back(Value::List(std::move(items)));
    } else {
      escaped.positional.push_back(escape(v));
    }
  }
  for (const auto& [k, v] : args.keyword) escaped.keyword.emplace_back(k, escape(v));
  auto r = StrMethod(s, name, escaped, budget);
  if (!r.ok()) return r;
  auto mark = [](const Value& v) { return v.is_string() ? Value::Markup(v.as_string()) : v; };
  if (r->is_string()) return mark(*r);
  if (r->is_list()) {
    std::vector<Value> items;
    for (const Value& item : r->as_list().items) items.push_back(mark(item));
    return Value::List(std::move(items), r->as_list().is_tuple());
  }
  return r;
}

}  // namespace

bool IsStrMethod(std::string_view n) {
  static constexpr std::string_view kNames[] = {
      "strip",      "lstrip",       "rstrip",       "split",   "rsplit",   "splitlines",
      "startswith", "endswith",     "upper",        "lower",   "casefold", "title",
      "capitalize", "swapcase",     "replace",      "find",    "rfind",    "index",
      "rindex",     "count",        "join",         "format",  "isdigit",  "isnumeric",
      "isdecimal",  "isalpha",      "isalnum",      "isspace", "islower",  "isupper",
      "istitle",    "removeprefix", "removesuffix", "center",  "ljust",    "rjust",
      "zfill",      "partition",    "rpartition"};
  return std::find(std::begin(kNames), std::end(kNames), n) != std::end(kNames);
}

std::optional<Result<Value>> CallMethod(const Value& object, const std::string& name,
                                        const CallArgs& args, const Budget& budget) {
  switch (object.kind()) {
    case Kind::kString:
      if (!IsStrMethod(name)) return std::nullopt;
      if (object.is_markup()) return MarkupMethod(object.as_string(), name, args, budget);
      return StrMethod(object.as_string(), name, args, budget);
    case Kind::kDict:
      if (name != "get" && name != "items" && name != "keys" && name != "values" &&
          name != "copy") {
        return std::nullopt;
      }
      return DictMethod(object, name, args);
    case Kind::kList: {
      if ((name != "index" && name != "count") || !object.as_list().is_plain()) return std::nullopt;
      if (args.positional.size() != 1) return Fail("list.%s() takes one argument", name.c_str());
      const auto& items = object.as_list().items;
      int64_t count = 0;
      for (size_t i = 0; i < items.size(); ++i) {
        if (!Equal(items[i], args.positional[0])) continue;
        if (name == "index") return Value(static_cast<int64_t>(i));
        ++count;
      }
      if (name == "index") return Fail("%s is not in list", Repr(args.positional[0]).c_str());
      return Value(count);
    }
    case Kind::kLoop: {
      if (name != "cycle") return std::nullopt;
      if (args.positional.empty()) return Fail("no items for cycling given");
      const LoopState& loop = object.as_loop();
      return args.positional[loop.index0 % args.positional.size()];
    }
    default:
      return std::nullopt;
  }
}

}  // namespace autan::jinja
