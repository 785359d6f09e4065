// UTF-8 and byte-level alphabet helpers for the tokenizers. Their edge cases
// (invalid bytes, overlong forms, surrogates) follow llama.cpp's unicode.cpp so
// that token ids agree with it byte for byte, not only on clean text.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace autan::unicode {

inline constexpr uint32_t kReplacement = 0xFFFD;
inline constexpr uint32_t kMaxCodepoint = 0x10FFFF;

// Length of the UTF-8 sequence announced by `lead`; continuation and invalid
// lead bytes count as one byte. The caller clamps to the bytes that remain.
inline size_t SequenceLength(uint8_t lead) {
  constexpr uint8_t kLength[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLength[lead >> 4];
}

// Decodes one codepoint at `offset` and advances it. A malformed or truncated
// sequence yields U+FFFD and consumes one byte; overlong forms and surrogates
// decode to their numeric value, as llama.cpp does.
uint32_t DecodeOne(std::string_view text, size_t& offset);
std::vector<uint32_t> DecodeLenient(std::string_view text);

// Appends the UTF-8 form of `cpt` (surrogates included, since lenient decoding
// can produce them); values past U+10FFFF become U+FFFD.
void AppendUtf8(uint32_t cpt, std::string& out);

// The Unicode White_Space property (what \s means to the HF pre-tokenizers).
bool IsWhitespace(uint32_t cpt);

// GPT-2's byte-level alphabet: every byte is shown as a printable codepoint
// (printable Latin-1 bytes as themselves, the others as U+0100 onwards).
namespace detail {
constexpr std::array<uint16_t, 256> MakeByteAlphabet() {
  std::array<uint16_t, 256> table{};
  uint16_t next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    table[b] = printable ? static_cast<uint16_t>(b) : next++;
  }
  return table;
}
inline constexpr std::array<uint16_t, 256> kByteAlphabet = MakeByteAlphabet();
inline constexpr uint32_t kByteAlphabetEnd = 256 + 68;  // one past the largest mapped codepoint
constexpr std::array<int16_t, kByteAlphabetEnd> MakeByteAlphabetInverse() {
  std::array<int16_t, kByteAlphabetEnd> inverse{};
  for (auto& v : inverse) v = -1;
  for (int b = 0; b < 256; ++b) inverse[kByteAlphabet[b]] = static_cast<int16_t>(b);
  return inverse;
}
inline constexpr std::array<int16_t, kByteAlphabetEnd> kByteAlphabetInverse =
    MakeByteAlphabetInverse();
}  // namespace detail

inline uint32_t ByteToCodepoint(uint8_t byte) { return detail::kByteAlphabet[byte]; }

// The byte shown as `cpt`, or -1 when `cpt` is not in the alphabet.
inline int CodepointToByte(uint32_t cpt) {
  return cpt < detail::kByteAlphabetEnd ? detail::kByteAlphabetInverse[cpt] : -1;
}

// Appends the byte-level form of `bytes` (each byte becomes one codepoint).
void AppendByteLevel(std::string_view bytes, std::string& out);

}  // namespace autan::unicode
