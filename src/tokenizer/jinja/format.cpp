// String formatting: Python's str.format and printf-style `%`.
#include <cmath>
#include <cstdio>

#include "tokenizer/jinja/builtins.h"

namespace autan::jinja {

// Python's str.format with automatic ({}), positional ({0}) and named ({x})
// fields and !s/!r conversions; format specs are not supported.
Result<Value> StrFormat(const std::string& s, const CallArgs& args, const Budget& budget) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '}') {
      if (i + 1 < s.size() && s[i + 1] == '}')
        ++i;
      else
        return Fail("Single '}' encountered in format string");
      out += '}';
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < s.size() && s[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    size_t close = s.find('}', i);
    if (close == std::string::npos) return Fail("Single '{' encountered in format string");
    std::string field = s.substr(i + 1, close - i - 1);
    i = close;
    char conversion = 's';
    if (size_t bang = field.find('!'); bang != std::string::npos) {
      conversion = bang + 1 < field.size() ? field[bang + 1] : 's';
      field.resize(bang);
    }
    if (field.find_first_of(":.[") != std::string::npos) {
      return Fail("str.format(): format specs and field lookups are not supported");
    }
    const Value* arg = nullptr;
    if (field.empty()) {
      if (auto_index < args.positional.size()) arg = &args.positional[auto_index];
      ++auto_index;
    } else if (std::all_of(field.begin(), field.end(),
                           [](char d) { return d >= '0' && d <= '9'; })) {
      size_t index = field.size() < 9 ? std::stoul(field) : SIZE_MAX;
      if (index < args.positional.size()) arg = &args.positional[index];
    } else {
      for (const auto& [k, v] : args.keyword) {
        if (k == field) arg = &v;
      }
    }
    if (arg == nullptr) return Fail("str.format(): no argument for field '{%s}'", field.c_str());
    out += conversion == 'r' ? Repr(*arg) : Str(*arg);
    if (out.size() > budget.max_string_bytes) return Fail("string exceeds the size limit");
  }
  return Value(std::move(out));
}

namespace {

struct Spec {
  bool left = false, plus = false, space = false, alt = false, zero = false;
  int width = -1;
  int precision = -1;
  char conv = 's';
};

std::string PadTo(std::string body, const Spec& spec, bool numeric) {
  int len = static_cast<int>(CodePointCount(body));
  if (spec.width <= len) return body;
  size_t pad = static_cast<size_t>(spec.width - len);
  if (spec.left) return body + std::string(pad, ' ');
  if (spec.zero && numeric) {
    size_t sign = !body.empty() && (body[0] == '-' || body[0] == '+' || body[0] == ' ') ? 1 : 0;
    return body.substr(0, sign) + std::string(pad, '0') + body.substr(sign);
  }
  return std::string(pad, ' ') + body;
}

Result<std::string> FormatOne(const Spec& spec, const Value& v) {
  char flags[8];
  char* f = flags;
  if (spec.plus) *f++ = '+';
  if (spec.space) *f++ = ' ';
  if (spec.alt) *f++ = '#';
  *f = '\0';
  char buf[512];
  switch (spec.conv) {
    case 's':
    case 'r':
    case 'a': {
      std::string s = spec.conv == 's' ? Str(v) : Repr(v);
      if (spec.precision >= 0) {
        std::vector<size_t> offsets = CodePointOffsets(s);
        size_t keep = std::min(offsets.size() - 1, static_cast<size_t>(spec.precision));
        s.resize(offsets[keep]);
      }
      return PadTo(std::move(s), spec, false);
    }
    case 'c':
      if (v.is_string() && CodePointCount(v.as_string()) == 1)
        return PadTo(v.as_string(), spec, false);
      if (v.is_int() && v.as_int() >= 0 && v.as_int() <= 0x10ffff) {
        std::string s;
        AppendUtf8(static_cast<uint32_t>(v.as_int()), &s);
        return PadTo(std::move(s), spec, false);
      }
      return Fail("%%c requires an int or a single character");
    default:
      break;
  }
  if (v.is_undefined()) return Error{v.undefined_message()};
  if (!v.is_number()) {
    return Fail("%%%c format: a real number is required, not %s", spec.conv, TypeName(v).c_str());
  }
  std::string pattern = std::string("%") + flags;
  int precision = std::min(spec.precision, 300);
  if (spec.conv == 'd' || spec.conv == 'i' || spec.conv == 'u' || spec.conv == 'x' ||
      spec.conv == 'X' || spec.conv == 'o') {
    double d = v.FloatValue();
    if (v.is_float() && (std::isnan(d) || std::isinf(d) || std::fabs(d) >= 9.2e18)) {
      return Fail("cannot convert float %s to integer", FloatRepr(d).c_str());
    }
    long long n = v.is_float() ? static_cast<long long>(d) : static_cast<long long>(v.IntValue());
    char conv = spec.conv == 'i' || spec.conv == 'u' ? 'd' : spec.conv;
    if (conv != 'd' && n < 0) {  // Python prints the sign, C the two's complement
      std::snprintf(buf, sizeof(buf), (pattern + "ll" + conv).c_str(), -n);
      return PadTo("-" + std::string(buf), spec, true);
    }
    std::snprintf(buf, sizeof(buf), (pattern + "ll" + conv).c_str(), n);
    return PadTo(buf, spec, true);
  }
  if (std::string_view("fFeEgG").find(spec.conv) == std::string_view::npos) {
    return Fail("unsupported format character '%c'", spec.conv);
  }
  pattern += "." + std::to_string(precision < 0 ? 6 : precision) + spec.conv;
  std::snprintf(buf, sizeof(buf), pattern.c_str(), v.FloatValue());
  return PadTo(buf, spec, true);
}

}  // namespace

Result<Value> PercentFormat(const std::string& fmt, const Value& args, const Budget& budget) {
  std::vector<Value> positional;
  const ValueDict* mapping = nullptr;
  if (args.is_list() && args.as_list().is_tuple()) {
    positional = args.as_list().items;
  } else if (args.is_dict()) {
    mapping = &args.as_dict();
  } else {
    positional.push_back(args);
  }
  size_t next = 0;
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    if (++i >= fmt.size()) return Fail("incomplete format");
    const Value* arg = nullptr;
    if (fmt[i] == '(') {
      size_t close = fmt.find(')', i);
      if (close == std::string::npos) return Fail("incomplete format key");
      if (mapping == nullptr) return Fail("format requires a mapping");
      arg = mapping->Find(fmt.substr(i + 1, close - i - 1));
      if (arg == nullptr)
        return Fail("format key '%s' not found", fmt.substr(i + 1, close - i - 1).c_str());
      i = close + 1;
    }
    Spec spec;
    for (; i < fmt.size() && std::string_view("-+ #0").find(fmt[i]) != std::string_view::npos;
         ++i) {
      spec.left |= fmt[i] == '-';
      spec.plus |= fmt[i] == '+';
      spec.space |= fmt[i] == ' ';
      spec.alt |= fmt[i] == '#';
      spec.zero |= fmt[i] == '0';
    }
    auto number = [&](int* out_n) {
      if (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9') *out_n = 0;
      for (; i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9'; ++i) {
        *out_n = std::min(*out_n * 10 + (fmt[i] - '0'), 100000);
      }
    };
    number(&spec.width);
    if (i < fmt.size() && fmt[i] == '.') {
      ++i;
      spec.precision = 0;
      number(&spec.precision);
    }
    if (i >= fmt.size()) return Fail("incomplete format");
    spec.conv = fmt[i];
    if (spec.conv == '%') {
      out += '%';
      continue;
    }
    if (arg == nullptr) {
      if (mapping != nullptr) return Fail("format requires a mapping");
      if (next >= positional.size()) return Fail("not enough arguments for format string");
      arg = &positional[next++];
    }
    auto piece = FormatOne(spec, *arg);
    if (!piece.ok()) return piece.error();
    out += *piece;
    if (out.size() > budget.max_string_bytes) return Fail("string exceeds the size limit");
  }
  if (mapping == nullptr && next < positional.size()) {
    return Fail("not all arguments converted during string formatting");
  }
  return Value(std::move(out));
}

}  // namespace autan::jinja
