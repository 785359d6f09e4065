#include "tokenizer/unicode.h"

namespace autan::unicode {

namespace {

bool IsContinuation(std::string_view text, size_t pos) {
  return pos < text.size() && (static_cast<uint8_t>(text[pos]) & 0xC0) == 0x80;
}

}  // namespace

uint32_t DecodeOne(std::string_view text, size_t& offset) {
  const auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(text[i])); };
  const uint32_t b0 = byte(offset);
  if (!(b0 & 0x80)) {
    offset += 1;
    return b0;
  }
  size_t length = 0;
  uint32_t value = 0;
  if (!(b0 & 0x40)) {
    length = 0;  // a continuation byte cannot start a sequence
  } else if (!(b0 & 0x20)) {
    length = 2;
    value = b0 & 0x1F;
  } else if (!(b0 & 0x10)) {
    length = 3;
    value = b0 & 0x0F;
  } else if (!(b0 & 0x08)) {
    length = 4;
    value = b0 & 0x07;
  }
  bool valid = length != 0;
  for (size_t i = 1; valid && i < length; ++i) {
    valid = IsContinuation(text, offset + i);
    if (valid) value = (value << 6) | (byte(offset + i) & 0x3F);
  }
  if (!valid) {
    offset += 1;
    return kReplacement;
  }
  offset += length;
  return value;
}

std::vector<uint32_t> DecodeLenient(std::string_view text) {
  std::vector<uint32_t> cpts;
  cpts.reserve(text.size());
  size_t offset = 0;
  while (offset < text.size()) cpts.push_back(DecodeOne(text, offset));
  return cpts;
}

void AppendUtf8(uint32_t cpt, std::string& out) {
  if (cpt > kMaxCodepoint) cpt = kReplacement;
  if (cpt <= 0x7F) {
    out.push_back(static_cast<char>(cpt));
  } else if (cpt <= 0x7FF) {
    out.push_back(static_cast<char>(0xC0 | (cpt >> 6)));
    out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  } else if (cpt <= 0xFFFF) {
    out.push_back(static_cast<char>(0xE0 | (cpt >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cpt >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cpt >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cpt >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cpt >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  }
}

bool IsWhitespace(uint32_t cpt) {
  if (cpt <= 0x20) return cpt == 0x20 || (cpt >= 0x09 && cpt <= 0x0D);
  switch (cpt) {
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cpt >= 0x2000 && cpt <= 0x200A;
  }
}

void AppendByteLevel(std::string_view bytes, std::string& out) {
  for (const char c : bytes) AppendUtf8(ByteToCodepoint(static_cast<uint8_t>(c)), out);
}

}  // namespace autan::unicode
