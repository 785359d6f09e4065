#include "tokenizer/jinja/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace autan::jinja {

const Value* ValueDict::Find(std::string_view key) const {
  auto it = index_.find(std::string(key));
  return it == index_.end() ? nullptr : &items_[it->second].second;
}

void ValueDict::Set(std::string key, Value value) {
  depth_ = std::max(depth_, Depth(value) + 1);
  auto it = index_.find(key);
  if (it != index_.end()) {
    items_[it->second].second = std::move(value);
    return;
  }
  index_.emplace(key, items_.size());
  items_.emplace_back(std::move(key), std::move(value));
}

void ValueDict::Clear() {
  std::vector<std::pair<std::string, Value>> items;
  items.swap(items_);
  index_.clear();
  depth_ = 1;
}

uint32_t Depth(const Value& v) {
  if (v.is_list()) return v.as_list().depth;
  if (v.is_dict()) return v.as_dict().depth();
  return 0;
}

Value Value::Sequence(std::vector<Value> items, SeqKind kind, const char* type_name) {
  auto list = std::make_shared<ValueList>();
  for (const Value& item : items) list->depth = std::max(list->depth, Depth(item) + 1);
  list->items = std::move(items);
  list->kind = kind;
  list->type_name = type_name;
  return Value(ListPtr(std::move(list)));
}

Value Value::List(std::vector<Value> items, bool is_tuple) {
  return is_tuple ? Sequence(std::move(items), SeqKind::kTuple, "tuple")
                  : Sequence(std::move(items), SeqKind::kList, "list");
}

Value Value::Dict(ValueDict dict) {
  return Value(DictPtr(std::make_shared<const ValueDict>(std::move(dict))));
}

bool Truthy(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined:
    case Kind::kNone:
      return false;
    case Kind::kBool:
      return v.as_bool();
    case Kind::kInt:
      return v.as_int() != 0;
    case Kind::kFloat:
      return v.as_float() != 0.0;
    case Kind::kString:
      return !v.as_string().empty();
    case Kind::kList:  // a generator is an object, true whatever it will yield
      return v.as_list().kind == SeqKind::kIterator || !v.as_list().items.empty();
    case Kind::kDict:
      return v.as_dict().size() != 0;
    default:
      return true;
  }
}

bool Equal(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.FloatValue() == b.FloatValue();
    return a.IntValue() == b.IntValue();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::kUndefined:
    case Kind::kNone:
      return true;
    case Kind::kString:
      return a.as_string() == b.as_string();
    case Kind::kList: {
      const ValueList& x = a.as_list();
      const ValueList& y = b.as_list();
      if (x.kind != y.kind || x.items.size() != y.items.size()) return false;
      if (x.kind == SeqKind::kIterator) return &x == &y;
      for (size_t i = 0; i < x.items.size(); ++i) {
        if (!Equal(x.items[i], y.items[i])) return false;
      }
      return true;
    }
    case Kind::kDict: {
      const ValueDict& x = a.as_dict();
      const ValueDict& y = b.as_dict();
      if (x.size() != y.size()) return false;
      for (const auto& [key, value] : x.items()) {
        const Value* other = y.Find(key);
        if (other == nullptr || !Equal(value, *other)) return false;
      }
      return true;
    }
    case Kind::kNamespace:
      return a.as_namespace() == b.as_namespace();
    case Kind::kCallable:
      return &a.as_callable() == &b.as_callable();
    case Kind::kLoop:
      return &a.as_loop() == &b.as_loop();
    default:
      return false;
  }
}

Result<bool> Less(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.FloatValue() < b.FloatValue();
    return a.IntValue() < b.IntValue();
  }
  if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();
  if (a.is_list() && b.is_list() && a.as_list().kind == b.as_list().kind &&
      a.as_list().is_plain()) {
    const auto& x = a.as_list().items;
    const auto& y = b.as_list().items;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (Equal(x[i], y[i])) continue;
      return Less(x[i], y[i]);
    }
    return x.size() < y.size();
  }
  if (a.is_undefined()) return Error{a.undefined_message()};
  if (b.is_undefined()) return Error{b.undefined_message()};
  return Fail("'<' not supported between instances of '%s' and '%s'", TypeName(a).c_str(),
              TypeName(b).c_str());
}

std::string TypeName(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined:
      return "Undefined";
    case Kind::kNone:
      return "NoneType";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kString:
      return "str";
    case Kind::kList:
      return v.as_list().type_name;
    case Kind::kDict:
      return "dict";
    case Kind::kNamespace:
      return "Namespace";
    case Kind::kCallable:
      return "function";
    case Kind::kLoop:
      return "LoopContext";
  }
  return "object";
}

std::string FloatRepr(double f) {
  if (std::isnan(f)) return "nan";
  if (std::isinf(f)) return f < 0 ? "-inf" : "inf";
  // Shortest round-trip digits in scientific form: "d.ddde[+-]xx".
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  bool negative = sci[0] == '-';
  if (negative) sci.erase(0, 1);
  size_t e = sci.find('e');
  int exponent = std::stoi(sci.substr(e + 1));
  std::string digits;
  for (size_t i = 0; i < e; ++i) {
    if (sci[i] != '.') digits += sci[i];
  }
  std::string out = negative ? "-" : "";
  if (exponent >= -4 && exponent < 16) {  // where Python's repr switches to exponents
    if (exponent < 0) {
      out += "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
    } else if (static_cast<size_t>(exponent) + 1 >= digits.size()) {
      out += digits + std::string(exponent + 1 - digits.size(), '0') + ".0";
    } else {
      out += digits.substr(0, exponent + 1) + "." + digits.substr(exponent + 1);
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  char exp_buf[16];
  std::snprintf(exp_buf, sizeof(exp_buf), "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
  return out + exp_buf;
}

namespace {

// Python's str.isprintable(), close enough: control, format and separator
// characters other than the ASCII space are escaped by repr().
bool IsPrintable(uint32_t cp) {
  if (cp < 0x20 || cp == 0x7f) return false;
  if (cp < 0x7f) return true;
  if (cp <= 0xa0 || cp == 0xad) return false;
  if (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202f)) {
    return false;
  }
  if ((cp >= 0x205f && cp <= 0x206f) || cp == 0x3000 || cp == 0xfeff) return false;
  if ((cp >= 0xd800 && cp <= 0xf8ff) || (cp >= 0xfff9 && cp <= 0xfffb)) return false;
  return cp <= 0x10ffff;
}

std::string StringRepr(const std::string& s) {
  bool has_single = s.find('\'') != std::string::npos;
  bool has_double = s.find('"') != std::string::npos;
  char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  size_t pos = 0;
  while (pos < s.size()) {
    uint32_t cp = DecodeUtf8(s, &pos);
    if (cp == static_cast<uint32_t>(quote) || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (!IsPrintable(cp)) {
      char buf[16];
      if (cp < 0x100) {
        std::snprintf(buf, sizeof(buf), "\\x%02x", cp);
      } else if (cp < 0x10000) {
        std::snprintf(buf, sizeof(buf), "\\u%04x", cp);
      } else {
        std::snprintf(buf, sizeof(buf), "\\U%08x", cp);
      }
      out += buf;
    } else {
      AppendUtf8(cp, &out);
    }
  }
  out += quote;
  return out;
}

}  // namespace

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Str(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined:
      return "";
    case Kind::kString:
      return v.as_string();
    default:
      return Repr(v);
  }
}

namespace {

std::string ReprAt(const Value& v, int depth);

}  // namespace

std::string Repr(const Value& v) { return ReprAt(v, 0); }

namespace {

std::string ReprAt(const Value& v, int depth) {
  if (depth > static_cast<int>(kMaxValueDepth)) return "...";  // a namespace holding itself
  switch (v.kind()) {
    case Kind::kUndefined:
      return "Undefined";
    case Kind::kNone:
      return "None";
    case Kind::kBool:
      return v.as_bool() ? "True" : "False";
    case Kind::kInt:
      return std::to_string(v.as_int());
    case Kind::kFloat:
      return FloatRepr(v.as_float());
    case Kind::kString:
      return v.is_markup() ? "Markup(" + StringRepr(v.as_string()) + ")"
                           : StringRepr(v.as_string());
    case Kind::kList: {
      const ValueList& list = v.as_list();
      if (list.kind == SeqKind::kIterator) return std::string("<") + list.type_name + " object>";
      std::string out = list.kind == SeqKind::kView ? std::string(list.type_name) + "(" : "";
      out += list.is_tuple() ? "(" : "[";
      for (size_t i = 0; i < list.items.size(); ++i) {
        if (i > 0) out += ", ";
        out += ReprAt(list.items[i], depth + 1);
      }
      if (list.is_tuple() && list.items.size() == 1) out += ",";
      out += list.is_tuple() ? ")" : "]";
      return list.kind == SeqKind::kView ? out + ")" : out;
    }
    case Kind::kDict:
    case Kind::kNamespace: {
      const ValueDict& dict = v.is_dict() ? v.as_dict() : *v.as_namespace();
      std::string out = v.is_dict() ? "{" : "<Namespace {";
      bool first = true;
      for (const auto& [key, value] : dict.items()) {
        if (!first) out += ", ";
        first = false;
        out += StringRepr(key) + ": " + ReprAt(value, depth + 1);
      }
      return out + (v.is_dict() ? "}" : "}>");
    }
    case Kind::kCallable:
      return "<function>";
    case Kind::kLoop:
      return "<LoopContext>";
  }
  return "";
}

}  // namespace

namespace {

void JsonString(const std::string& s, bool ensure_ascii, std::string* out) {
  *out += '"';
  size_t pos = 0;
  while (pos < s.size()) {
    uint32_t cp = DecodeUtf8(s, &pos);
    switch (cp) {
      case '"':
        *out += "\\\"";
        continue;
      case '\\':
        *out += "\\\\";
        continue;
      case '\n':
        *out += "\\n";
        continue;
      case '\r':
        *out += "\\r";
        continue;
      case '\t':
        *out += "\\t";
        continue;
      case '\b':
        *out += "\\b";
        continue;
      case '\f':
        *out += "\\f";
        continue;
      default:
        break;
    }
    char buf[16];
    if (cp < 0x20 || (ensure_ascii && cp >= 0x7f)) {
      if (cp >= 0x10000) {
        uint32_t v = cp - 0x10000;
        std::snprintf(buf, sizeof(buf), "\\u%04x\\u%04x", 0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
      } else {
        std::snprintf(buf, sizeof(buf), "\\u%04x", cp);
      }
      *out += buf;
    } else {
      AppendUtf8(cp, out);
    }
  }
  *out += '"';
}

constexpr int kMaxJsonDepth = 256;

Status DumpJson(const Value& v, const JsonDumpOptions& opt, int depth, std::string* out) {
  if (depth > kMaxJsonDepth) return Fail("tojson: value nested too deeply");
  auto newline = [&](int level) {
    if (opt.indent < 0 && !opt.use_indent_text) return;
    *out += '\n';
    for (int i = 0; i < level; ++i) {
      if (opt.use_indent_text) {
        *out += opt.indent_text;
      } else {
        out->append(static_cast<size_t>(opt.indent), ' ');
      }
    }
  };
  switch (v.kind()) {
    case Kind::kNone:
      *out += "null";
      return {};
    case Kind::kBool:
      *out += v.as_bool() ? "true" : "false";
      return {};
    case Kind::kInt:
      *out += std::to_string(v.as_int());
      return {};
    case Kind::kFloat: {
      double f = v.as_float();
      if (std::isnan(f)) {
        *out += "NaN";
      } else if (std::isinf(f)) {
        *out += f < 0 ? "-Infinity" : "Infinity";
      } else {
        *out += FloatRepr(f);
      }
      return {};
    }
    case Kind::kString:
      JsonString(v.as_string(), opt.ensure_ascii, out);
      return {};
    case Kind::kList: {
      if (!v.as_list().is_plain()) break;
      const auto& items = v.as_list().items;
      if (items.empty()) {
        *out += "[]";
        return {};
      }
      *out += '[';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) *out += opt.item_separator;
        newline(depth + 1);
        AUTAN_TRY(DumpJson(items[i], opt, depth + 1, out));
      }
      newline(depth);
      *out += ']';
      return {};
    }
    case Kind::kDict: {
      const ValueDict& dict = v.as_dict();
      if (dict.size() == 0) {
        *out += "{}";
        return {};
      }
      std::vector<const std::pair<std::string, Value>*> entries;
      for (const auto& entry : dict.items()) entries.push_back(&entry);
      if (opt.sort_keys) {
        std::stable_sort(entries.begin(), entries.end(),
                         [](const auto* a, const auto* b) { return a->first < b->first; });
      }
      *out += '{';
      for (size_t i = 0; i < entries.size(); ++i) {
        if (i > 0) *out += opt.item_separator;
        newline(depth + 1);
        JsonString(entries[i]->first, opt.ensure_ascii, out);
        *out += opt.key_separator;
        AUTAN_TRY(DumpJson(entries[i]->second, opt, depth + 1, out));
      }
      newline(depth);
      *out += '}';
      return {};
    }
    default:
      break;
  }
  return Fail("Object of type %s is not JSON serializable", TypeName(v).c_str());
}

}  // namespace

Result<std::string> JsonDumps(const Value& v, const JsonDumpOptions& options) {
  std::string out;
  AUTAN_TRY(DumpJson(v, options, 0, &out));
  return out;
}

namespace {

Result<Value> FromJsonAt(const nlohmann::ordered_json& j, uint32_t depth) {
  using Type = nlohmann::ordered_json::value_t;
  if (depth > kMaxValueDepth) {
    return Fail("JSON value nested deeper than %u levels", kMaxValueDepth);
  }
  switch (j.type()) {
    case Type::null:
      return Value();
    case Type::boolean:
      return Value(j.get<bool>());
    case Type::number_integer:
      return Value(j.get<int64_t>());
    case Type::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      if (u <= static_cast<uint64_t>(INT64_MAX)) return Value(static_cast<int64_t>(u));
      return Value(static_cast<double>(u));
    }
    case Type::number_float:
      return Value(j.get<double>());
    case Type::string:
      return Value(j.get<std::string>());
    case Type::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& item : j) {
        auto v = FromJsonAt(item, depth + 1);
        if (!v.ok()) return v;
        items.push_back(std::move(*v));
      }
      return Value::List(std::move(items));
    }
    case Type::object: {
      ValueDict dict;
      for (const auto& [key, item] : j.items()) {
        auto v = FromJsonAt(item, depth + 1);
        if (!v.ok()) return v;
        dict.Set(key, std::move(*v));
      }
      return Value::Dict(std::move(dict));
    }
    default:
      return Value();
  }
}

}  // namespace

Result<Value> FromJson(const nlohmann::ordered_json& j) { return FromJsonAt(j, 1); }

uint32_t DecodeUtf8(std::string_view s, size_t* pos) {
  auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  uint8_t b0 = byte(*pos);
  size_t len = b0 < 0x80           ? 1
               : (b0 >> 5) == 0x6  ? 2
               : (b0 >> 4) == 0xe  ? 3
               : (b0 >> 3) == 0x1e ? 4
                                   : 0;
  if (len <= 1 || *pos + len > s.size()) {
    ++*pos;
    return b0;
  }
  uint32_t cp = b0 & (0x7f >> len);
  for (size_t i = 1; i < len; ++i) {
    uint8_t b = byte(*pos + i);
    if ((b & 0xc0) != 0x80) {
      ++*pos;
      return b0;
    }
    cp = (cp << 6) | (b & 0x3f);
  }
  *pos += len;
  return cp;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xc0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xe0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    *out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    *out += static_cast<char>(0xf0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    *out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

std::vector<size_t> CodePointOffsets(std::string_view s) {
  std::vector<size_t> offsets;
  offsets.reserve(s.size() + 1);
  size_t pos = 0;
  while (pos < s.size()) {
    offsets.push_back(pos);
    DecodeUtf8(s, &pos);
  }
  offsets.push_back(s.size());
  return offsets;
}

size_t CodePointCount(std::string_view s) {
  size_t count = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    DecodeUtf8(s, &pos);
    ++count;
  }
  return count;
}

bool IsPyWhitespace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85 || cp == 0xa0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

}  // namespace autan::jinja
