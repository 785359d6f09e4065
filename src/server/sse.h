// Server-sent events as OpenAI streams them: each event one `data:` line and
// a blank line; the stream ends with `data: [DONE]`.
#pragma once

#include <string>
#include <string_view>

namespace autan::server {

// One event. A payload with line breaks (never the case for compact JSON)
// becomes one `data:` line per line, as the SSE format requires.
inline std::string SseEvent(std::string_view payload) {
  std::string out = "data: ";
  for (char c : payload) {
    if (c == '\n') {
      out += "\ndata: ";
    } else if (c != '\r') {
      out += c;
    }
  }
  out += "\n\n";
  return out;
}

inline std::string SseDone() { return "data: [DONE]\n\n"; }

}  // namespace autan::server
