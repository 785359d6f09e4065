// Progress of a long job measured in bytes: on a terminal a bar redrawn in
// place, "[=====>    ] 42%  1.20 of 2.90 GiB, 12 s left"; elsewhere (a log,
// a pipe) one plain line each time another tenth is done, so logs stay short.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>

namespace autan::cli {

class ProgressBar {
 public:
  // `tty`: whether `out` is a terminal (isatty of its descriptor).
  ProgressBar(std::FILE* out, bool tty);

  void Update(uint64_t done, uint64_t total);
  double Seconds() const;

 private:
  using Clock = std::chrono::steady_clock;
  std::FILE* out_;
  bool tty_;
  Clock::time_point start_;
  int tenths_shown_ = 0;  // off a terminal: tenths already reported
};

}  // namespace autan::cli
