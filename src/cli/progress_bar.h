// Progress of a long job measured in bytes (quantizing, downloading): on a
// terminal a bar redrawn in place, "[=====>    ]  42%  1.20 of 2.90 GiB, 12 s
// left, 85.0 MiB/s"; elsewhere (a log, a pipe) one plain line each time
// another tenth is done, so logs stay short.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>

namespace autan::cli {

class ProgressBar {
 public:
  // `tty`: whether `out` is a terminal (isatty of its descriptor).
  ProgressBar(std::FILE* out, bool tty);

  // `total` 0: unknown. `resumed_at`: bytes an earlier run did, which the
  // rate (and so the time left) leaves out.
  void Update(uint64_t done, uint64_t total, uint64_t resumed_at = 0);
  // Ends a bar's line on a terminal, before other output.
  void Break();
  double Seconds() const;

 private:
  using Clock = std::chrono::steady_clock;
  std::FILE* out_;
  bool tty_;
  Clock::time_point start_;
  Clock::time_point last_draw_;
  bool line_open_ = false;  // on a terminal: a bar is drawn and its line not ended
  int tenths_shown_ = 0;    // off a terminal: tenths already reported
};

}  // namespace autan::cli
