// The progress of a download on stderr: a bar redrawn in place on a terminal
// (bytes, rate, time left), one line per tenth of the file elsewhere (logs).
#pragma once

#include <chrono>
#include <cstdint>

namespace autan::cli {

class PullProgress {
 public:
  explicit PullProgress(bool tty);
  void Update(uint64_t done, uint64_t total, uint64_t resumed_at);
  // Ends the bar's line on a terminal, before other output.
  void Break();

 private:
  using Clock = std::chrono::steady_clock;
  bool tty_;
  bool drawn_ = false;
  int last_tenth_ = -1;
  Clock::time_point start_;
  Clock::time_point last_draw_;
};

}  // namespace autan::cli
