// Byte-level lexing of the inside of a JSON string: well-formed UTF-8 (no
// overlong forms, surrogates or code points past U+10FFFF), no raw control
// characters, and escapes whose \u form never names a lone surrogate, so every
// accepted string also parses with strict JSON parsers.
#pragma once

#include <array>
#include <cstdint>

namespace autan::constraint {

// The UTF-8 states come first so a token's effect on them can be tabulated
// once per vocabulary (see TokenTrie).
enum LexState : uint8_t {
  kLexPlain = 0,  // between code points
  kLexCont1,      // one continuation byte 80..BF to go
  kLexCont2,      // two
  kLexCont3,      // three
  kLexE0,         // after E0: A0..BF (no overlong), then one more
  kLexED,         // after ED: 80..9F (no surrogates), then one more
  kLexF0,         // after F0: 90..BF (no overlong), then two more
  kLexF4,         // after F4: 80..8F (up to U+10FFFF), then two more
  kLexEscape,     // after a backslash
  kLexHex4,       // after \u: four hex digits to go
  kLexHex3,
  kLexHex2,
  kLexHex1,
  kLexHexD,  // after \uD or \ud: 0..7 only (D800..DFFF are surrogates), then two more
  kNumLexStates
};

constexpr int kNumUtf8States = 8;  // kLexPlain..kLexF4
constexpr uint8_t kLexReject = 0xFF;
constexpr uint8_t kLexQuote = 0xFE;  // an unescaped '"': the string ends here

struct LexTable {
  std::array<std::array<uint8_t, 256>, kNumLexStates> next{};
};

constexpr bool IsHexDigit(int c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

constexpr LexTable MakeLexTable() {
  LexTable t;
  for (auto& row : t.next) row.fill(kLexReject);
  for (int c = 0; c < 256; ++c) {
    uint8_t& plain = t.next[kLexPlain][c];
    if (c == '"') {
      plain = kLexQuote;
    } else if (c == '\\') {
      plain = kLexEscape;
    } else if (c >= 0x20 && c < 0x80) {
      plain = kLexPlain;
    } else if (c >= 0xC2 && c <= 0xDF) {
      plain = kLexCont1;
    } else if (c == 0xE0) {
      plain = kLexE0;
    } else if (c == 0xED) {
      plain = kLexED;
    } else if (c >= 0xE1 && c <= 0xEF) {
      plain = kLexCont2;
    } else if (c == 0xF0) {
      plain = kLexF0;
    } else if (c >= 0xF1 && c <= 0xF3) {
      plain = kLexCont3;
    } else if (c == 0xF4) {
      plain = kLexF4;
    }
    const bool cont = c >= 0x80 && c <= 0xBF;
    if (cont) {
      t.next[kLexCont1][c] = kLexPlain;
      t.next[kLexCont2][c] = kLexCont1;
      t.next[kLexCont3][c] = kLexCont2;
    }
    if (c >= 0xA0 && c <= 0xBF) t.next[kLexE0][c] = kLexCont1;
    if (c >= 0x80 && c <= 0x9F) t.next[kLexED][c] = kLexCont1;
    if (c >= 0x90 && c <= 0xBF) t.next[kLexF0][c] = kLexCont2;
    if (c >= 0x80 && c <= 0x8F) t.next[kLexF4][c] = kLexCont2;
    switch (c) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        t.next[kLexEscape][c] = kLexPlain;
        break;
      case 'u':
        t.next[kLexEscape][c] = kLexHex4;
        break;
      default:
        break;
    }
    if (IsHexDigit(c)) {
      t.next[kLexHex4][c] = (c == 'd' || c == 'D') ? kLexHexD : kLexHex3;
      t.next[kLexHex3][c] = kLexHex2;
      t.next[kLexHex2][c] = kLexHex1;
      t.next[kLexHex1][c] = kLexPlain;
    }
    if (c >= '0' && c <= '7') t.next[kLexHexD][c] = kLexHex2;
  }
  return t;
}

inline constexpr LexTable kLexTable = MakeLexTable();

constexpr bool IsJsonWhitespace(uint8_t c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

}  // namespace autan::constraint
