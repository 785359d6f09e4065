#include "tokenizer/jinja/lexer.h"

#include <cmath>
#include <cstdlib>

#include "tokenizer/jinja/value.h"

namespace autan::jinja {

std::string Where(Pos pos) {
  return "line " + std::to_string(pos.line) + ":" + std::to_string(pos.col) + ": ";
}

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || IsDigit(c); }

// Jinja2 reads templates with every \r\n, \r and \n turned into \n, and drops a
// single trailing newline (keep_trailing_newline=False).
std::string NormalizeNewlines(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
      out += '\n';
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

class Lexer {
 public:
  explicit Lexer(std::string src) : src_(std::move(src)) {}

  Result<std::vector<Token>> Run() {
    size_t pos = 0;
    bool line_starting = true;
    while (pos < src_.size()) {
      size_t start = FindTagStart(pos);
      if (start == std::string::npos) {
        EmitData(pos, src_.substr(pos));
        break;
      }
      std::string text = src_.substr(pos, start - pos);
      char kind = src_[start + 1];  // '{', '%' or '#'
      size_t after = start + 2;
      char sign = 0;
      if (after < src_.size() && (src_[after] == '-' || src_[after] == '+')) sign = src_[after++];
      size_t raw_end = kind == '%' ? MatchRawBegin(start) : 0;
      ApplyLeftStrip(&text, sign, kind != '{', line_starting);
      EmitData(pos, std::move(text));
      Pos tag_pos = PosAt(start);
      if (raw_end != 0) {
        auto r = LexRaw(raw_end, &line_starting);
        if (!r.ok()) return r.error();
        pos = *r;
      } else if (kind == '#') {
        auto r = SkipComment(start, after, &line_starting);
        if (!r.ok()) return r.error();
        pos = *r;
      } else {
        Push(kind == '{' ? TokenType::kVarBegin : TokenType::kBlockBegin, "", tag_pos);
        auto r = LexTag(after, kind == '%', tag_pos, &line_starting);
        if (!r.ok()) return r.error();
        pos = *r;
      }
    }
    Push(TokenType::kEof, "", PosAt(src_.size()));
    return std::move(tokens_);
  }

 private:
  size_t FindTagStart(size_t pos) const {
    while (true) {
      pos = src_.find('{', pos);
      if (pos == std::string::npos || pos + 1 >= src_.size()) return std::string::npos;
      char c = src_[pos + 1];
      if (c == '{' || c == '%' || c == '#') return pos;
      ++pos;
    }
  }

  // lstrip_blocks: whitespace between a line start and a block or comment tag
  // goes; `-` strips all whitespace before any tag; `+` keeps it.
  void ApplyLeftStrip(std::string* text, char sign, bool is_block, bool line_starting) const {
    if (sign == '-') {
      text->resize(RStripWhitespace(*text));
      return;
    }
    if (sign == '+' || !is_block) return;
    size_t nl = text->rfind('\n');
    size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
    if (l_pos == 0 && !line_starting) return;
    if (l_pos == text->size()) return;
    size_t p = l_pos;
    while (p < text->size()) {
      if (!IsPyWhitespace(DecodeUtf8(*text, &p))) return;
    }
    text->resize(l_pos);
  }

  static size_t RStripWhitespace(std::string_view text) {
    std::vector<size_t> offsets = CodePointOffsets(text);
    size_t n = offsets.size() - 1;
    while (n > 0) {
      size_t p = offsets[n - 1];
      if (!IsPyWhitespace(DecodeUtf8(text, &p))) break;
      --n;
    }
    return offsets[n];
  }

  size_t SkipWhitespace(size_t pos) const {
    while (pos < src_.size()) {
      size_t next = pos;
      if (!IsPyWhitespace(DecodeUtf8(src_, &next))) break;
      pos = next;
    }
    return pos;
  }

  // `{%(-|+|)\s*raw\s*(-%}\s*|%})` at `start`; returns the end or 0.
  size_t MatchRawBegin(size_t start) const { return MatchKeywordTag(start, "raw", false); }

  size_t MatchKeywordTag(size_t start, std::string_view word, bool trim_newline) const {
    size_t p = start + 2;
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) ++p;
    p = SkipWhitespace(p);
    if (src_.compare(p, word.size(), word) != 0) return 0;
    p = SkipWhitespace(p + word.size());
    if (trim_newline && src_.compare(p, 3, "+%}") == 0) return p + 3;
    if (src_.compare(p, 3, "-%}") == 0) return SkipWhitespace(p + 3);
    if (src_.compare(p, 2, "%}") != 0) return 0;
    p += 2;
    if (trim_newline && p < src_.size() && src_[p] == '\n') ++p;
    return p;
  }

  Result<size_t> LexRaw(size_t body, bool* line_starting) {
    *line_starting = src_[body - 1] == '\n';
    size_t p = body;
    while ((p = src_.find("{%", p)) != std::string::npos) {
      size_t end = MatchKeywordTag(p, "endraw", true);
      if (end != 0) {
        std::string text = src_.substr(body, p - body);
        char sign = src_[p + 2] == '-' || src_[p + 2] == '+' ? src_[p + 2] : 0;
        ApplyLeftStrip(&text, sign, true, *line_starting);
        EmitData(body, std::move(text));
        *line_starting = src_[end - 1] == '\n';
        return end;
      }
      p += 2;
    }
    return Fail("%smissing end of raw directive", Where(PosAt(body)).c_str());
  }

  Result<size_t> SkipComment(size_t start, size_t content, bool* line_starting) {
    size_t q = src_.find("#}", content);
    if (q == std::string::npos) {
      return Fail("%smissing end of comment tag", Where(PosAt(start)).c_str());
    }
    char sign = q > content && (src_[q - 1] == '-' || src_[q - 1] == '+') ? src_[q - 1] : 0;
    size_t end = q + 2;
    if (sign == '-') {
      end = SkipWhitespace(end);
    } else if (sign == 0 && end < src_.size() && src_[end] == '\n') {
      ++end;  // trim_blocks
    }
    *line_starting = src_[end - 1] == '\n';
    return end;
  }

  // Returns the end of a tag-closing marker at p (0 if none): block tags close
  // with `+%}`, `-%}` and trailing whitespace, or `%}` and one newline
  // (trim_blocks); variables with `-}}` and whitespace, or `}}`.
  size_t MatchTagEnd(size_t p, bool block) const {
    if (block) {
      if (src_.compare(p, 3, "+%}") == 0) return p + 3;
      if (src_.compare(p, 3, "-%}") == 0) return SkipWhitespace(p + 3);
      if (src_.compare(p, 2, "%}") == 0) {
        return p + 2 < src_.size() && src_[p + 2] == '\n' ? p + 3 : p + 2;
      }
      return 0;
    }
    if (src_.compare(p, 3, "-}}") == 0) return SkipWhitespace(p + 3);
    if (src_.compare(p, 2, "}}") == 0) return p + 2;
    return 0;
  }

  Result<size_t> LexTag(size_t p, bool block, Pos tag_pos, bool* line_starting) {
    std::string brackets;  // closers expected, innermost last
    while (true) {
      if (p >= src_.size()) {
        return Fail("%sunexpected end of template: '%s' is never closed", Where(tag_pos).c_str(),
                    block ? "{%" : "{{");
      }
      if (brackets.empty()) {
        size_t end = MatchTagEnd(p, block);
        if (end != 0) {
          Push(block ? TokenType::kBlockEnd : TokenType::kVarEnd, "", PosAt(p));
          *line_starting = src_[end - 1] == '\n';
          return end;
        }
      }
      size_t next = p;
      if (IsPyWhitespace(DecodeUtf8(src_, &next))) {
        p = SkipWhitespace(p);
        continue;
      }
      auto r = LexOne(p, &brackets);
      if (!r.ok()) return r.error();
      p = *r;
    }
  }

  Result<size_t> LexOne(size_t p, std::string* brackets) {
    Pos pos = PosAt(p);
    char c = src_[p];
    if (IsDigit(c)) return LexNumber(p, pos);
    if (IsNameStart(c)) {
      size_t e = p;
      while (e < src_.size() && IsNameChar(src_[e])) ++e;
      Push(TokenType::kName, src_.substr(p, e - p), pos);
      return e;
    }
    if (c == '\'' || c == '"') return LexString(p, pos);
    static constexpr std::string_view kTwoChar[] = {"//", "**", "==", "!=", ">=", "<="};
    for (std::string_view op : kTwoChar) {
      if (src_.compare(p, 2, op) == 0) {
        Push(TokenType::kOp, std::string(op), pos);
        return p + 2;
      }
    }
    if (std::string_view("+-/*%~[](){}<>=.:|,;").find(c) == std::string_view::npos) {
      return Fail("%sunexpected character '%s' in tag", Where(pos).c_str(),
                  src_.substr(p, CodePointLen(p)).c_str());
    }
    if (c == '(' || c == '[' || c == '{') {
      brackets->push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
    } else if (c == ')' || c == ']' || c == '}') {
      if (brackets->empty()) return Fail("%sunexpected '%c'", Where(pos).c_str(), c);
      if (brackets->back() != c) {
        return Fail("%sunexpected '%c', expected '%c'", Where(pos).c_str(), c, brackets->back());
      }
      brackets->pop_back();
    }
    Push(TokenType::kOp, std::string(1, c), pos);
    return p + 1;
  }

  size_t CodePointLen(size_t p) const {
    size_t next = p;
    DecodeUtf8(src_, &next);
    return next - p;
  }

  // Digits with optional single underscores between them, as Python allows.
  size_t ScanDigits(size_t p, int base) const {
    auto ok = [&](char c) {
      if (base == 16) return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      return c >= '0' && c < static_cast<char>('0' + base);
    };
    size_t e = p;
    while (e < src_.size()) {
      if (ok(src_[e])) {
        ++e;
      } else if (src_[e] == '_' && e > p && e + 1 < src_.size() && ok(src_[e + 1])) {
        ++e;
      } else {
        break;
      }
    }
    return e;
  }

  Result<size_t> LexNumber(size_t p, Pos pos) {
    auto clean = [&](size_t a, size_t b) {
      std::string s;
      for (size_t i = a; i < b; ++i) {
        if (src_[i] != '_') s += src_[i];
      }
      return s;
    };
    bool after_dot = p > 0 && src_[p - 1] == '.';  // `x.0.1` reads as two subscripts
    size_t int_end = ScanDigits(p, 10);
    size_t e = int_end;
    bool is_float = false;
    if (!after_dot && e + 1 < src_.size() && src_[e] == '.' && IsDigit(src_[e + 1])) {
      e = ScanDigits(e + 1, 10);
      is_float = true;
    }
    if (!after_dot && e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
      size_t x = e + 1;
      if (x < src_.size() && (src_[x] == '+' || src_[x] == '-')) ++x;
      if (x < src_.size() && IsDigit(src_[x])) {
        e = ScanDigits(x, 10);
        is_float = true;
      }
    }
    if (is_float) {
      Token t{TokenType::kFloat, clean(p, e), 0, std::strtod(clean(p, e).c_str(), nullptr), pos};
      tokens_.push_back(std::move(t));
      return e;
    }
    int base = 10;
    size_t digits = p;
    if (src_[p] == '0' && p + 1 < src_.size()) {
      char b = static_cast<char>(src_[p + 1] | 0x20);
      base = b == 'x' ? 16 : b == 'o' ? 8 : b == 'b' ? 2 : 10;
      if (base != 10) digits = p + 2;
    }
    e = base == 10 ? int_end : ScanDigits(digits, base);
    if (base == 10 && src_[p] == '0') {
      e = p + 1;  // Jinja2 reads "0(_?0)*" only: "012" is 0 then 12
      while (e < src_.size() &&
             (src_[e] == '0' || (src_[e] == '_' && e + 1 < src_.size() && src_[e + 1] == '0'))) {
        ++e;
      }
    }
    std::string text = clean(digits, e);
    if (text.empty()) return Fail("%sinvalid number literal", Where(pos).c_str());
    errno = 0;
    char* end = nullptr;
    long long v = std::strtoll(text.c_str(), &end, base);
    if (errno == ERANGE) return Fail("%sinteger literal too large", Where(pos).c_str());
    tokens_.push_back(Token{TokenType::kInt, text, static_cast<int64_t>(v), 0, pos});
    return e;
  }

  Result<size_t> LexString(size_t p, Pos pos);

  void EmitData(size_t at, std::string text) {
    if (text.empty()) return;
    Push(TokenType::kData, std::move(text), PosAt(at));
  }

  void Push(TokenType type, std::string text, Pos pos) {
    tokens_.push_back(Token{type, std::move(text), 0, 0, pos});
  }

  // Positions are asked for in increasing order, so a cursor walks forward.
  Pos PosAt(size_t offset) {
    if (offset < cursor_offset_) {
      cursor_offset_ = 0;
      cursor_ = Pos{};
    }
    while (cursor_offset_ < offset && cursor_offset_ < src_.size()) {
      char c = src_[cursor_offset_++];
      if (c == '\n') {
        ++cursor_.line;
        cursor_.col = 1;
      } else if ((static_cast<uint8_t>(c) & 0xc0) != 0x80) {
        ++cursor_.col;
      }
    }
    return cursor_;
  }

  std::string src_;
  std::vector<Token> tokens_;
  size_t cursor_offset_ = 0;
  Pos cursor_;
};

int HexValue(char c) {
  if (IsDigit(c)) return c - '0';
  c = static_cast<char>(c | 0x20);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// Python's string-literal escapes, as Jinja2 decodes them.
Result<size_t> Lexer::LexString(size_t p, Pos pos) {
  char quote = src_[p];
  std::string value;
  size_t i = p + 1;
  while (true) {
    if (i >= src_.size()) return Fail("%sunterminated string literal", Where(pos).c_str());
    char c = src_[i];
    if (c == quote) break;
    if (c != '\\') {
      value += c;
      ++i;
      continue;
    }
    if (i + 1 >= src_.size()) return Fail("%sunterminated string literal", Where(pos).c_str());
    char e = src_[i + 1];
    i += 2;
    switch (e) {
      case '\n':
        continue;
      case '\\':
      case '\'':
      case '"':
        value += e;
        continue;
      case 'a':
        value += '\a';
        continue;
      case 'b':
        value += '\b';
        continue;
      case 'f':
        value += '\f';
        continue;
      case 'n':
        value += '\n';
        continue;
      case 'r':
        value += '\r';
        continue;
      case 't':
        value += '\t';
        continue;
      case 'v':
        value += '\v';
        continue;
      default:
        break;
    }
    if (e >= '0' && e <= '7') {
      uint32_t cp = static_cast<uint32_t>(e - '0');
      for (int k = 0; k < 2 && i < src_.size() && src_[i] >= '0' && src_[i] <= '7'; ++k) {
        cp = cp * 8 + static_cast<uint32_t>(src_[i++] - '0');
      }
      AppendUtf8(cp, &value);
      continue;
    }
    int width = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
    if (width == 0) {
      if (e == 'N') return Fail("%s\\N{...} escapes are not supported", Where(pos).c_str());
      value += '\\';  // unknown escapes stay as written
      --i;
      continue;
    }
    uint32_t cp = 0;
    for (int k = 0; k < width; ++k) {
      int h = i < src_.size() ? HexValue(src_[i]) : -1;
      if (h < 0) return Fail("%struncated \\%c escape in string", Where(pos).c_str(), e);
      cp = cp * 16 + static_cast<uint32_t>(h);
      ++i;
    }
    if (cp > 0x10ffff) return Fail("%sillegal Unicode character in string", Where(pos).c_str());
    AppendUtf8(cp, &value);
  }
  tokens_.push_back(Token{TokenType::kString, std::move(value), 0, 0, pos});
  return i + 1;
}

}  // namespace

Result<std::vector<Token>> Tokenize(std::string_view source) {
  return Lexer(NormalizeNewlines(source)).Run();
}

}  // namespace autan::jinja
