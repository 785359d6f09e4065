// Stop sequences over streamed text: a stop string may span several tokens,
// so text that could be the start of one is held back until the next piece
// settles it, and the stop text itself is never emitted.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace autan::server {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {}

  struct Output {
    std::string text;      // safe to emit now
    bool stopped = false;  // a stop sequence completed; `text` ends right before it
  };
  // Feeds the next piece of generated text. After a stop, nothing more comes.
  Output Push(std::string_view piece);
  // The text held back at the end of generation (no stop completed).
  std::string Flush();

  bool stopped() const { return stopped_; }
  size_t held() const { return held_.size(); }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

}  // namespace autan::server
