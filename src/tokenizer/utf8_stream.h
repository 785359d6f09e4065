// Streams token pieces as text without ever splitting a UTF-8 character:
// a piece that ends inside a multi-byte sequence is held back until the
// rest arrives.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace autan {

class Utf8Stream {
 public:
  // Appends bytes and returns the longest prefix of complete characters.
  std::string Push(std::string_view bytes) {
    pending_ += bytes;
    const size_t n = CompleteLength(pending_);
    std::string out = pending_.substr(0, n);
    pending_.erase(0, n);
    return out;
  }
  // Whatever is left at the end (an invalid tail is passed through as is).
  std::string Flush() { return std::exchange(pending_, {}); }

 private:
  static size_t CompleteLength(std::string_view s) {
    // Look back at most 3 bytes for the lead byte of an unfinished character.
    for (size_t back = 1; back <= 3 && back <= s.size(); ++back) {
      const unsigned char c = static_cast<unsigned char>(s[s.size() - back]);
      if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking
      const size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      return need > back ? s.size() - back : s.size();
    }
    return s.size();
  }
  std::string pending_;
};

}  // namespace autan
