#include "cli/progress_bar.h"

namespace autan::cli {

ProgressBar::ProgressBar(std::FILE* out, bool tty)
    : out_(out), tty_(tty), start_(Clock::now()), last_draw_(start_) {}

double ProgressBar::Seconds() const {
  return std::chrono::duration<double>(Clock::now() - start_).count();
}

void ProgressBar::Update(uint64_t done, uint64_t total, uint64_t resumed_at) {
  const Clock::time_point now = Clock::now();
  const double elapsed = Seconds();
  const double rate = elapsed > 0 ? static_cast<double>(done - resumed_at) / elapsed : 0;
  const double mib = 1 << 20, gib = 1 << 30;
  if (total == 0) {  // unknown size: bytes and rate, on a terminal only
    if (!tty_) return;
    std::fprintf(out_, "\r%.2f GiB, %.1f MiB/s   ", static_cast<double>(done) / gib, rate / mib);
    line_open_ = true;
    std::fflush(out_);
    return;
  }
  const double frac = static_cast<double>(done) / static_cast<double>(total);
  const double left = rate > 0 ? static_cast<double>(total - done) / rate : 0;
  const int percent = static_cast<int>(frac * 100);
  if (!tty_) {
    const int tenths = static_cast<int>(frac * 10);
    if (tenths <= tenths_shown_) return;
    tenths_shown_ = tenths;
    std::fprintf(out_, "autan: %3d%%  %.2f of %.2f GiB, %.0f s left, %.1f MiB/s\n", percent,
                 static_cast<double>(done) / gib, static_cast<double>(total) / gib, left,
                 rate / mib);
    std::fflush(out_);
    return;
  }
  // Redrawn ten times a second at most, and once at the end.
  if (line_open_ && done != total && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  char bar[31];
  const int filled = static_cast<int>(frac * 30);
  for (int i = 0; i < 30; ++i) bar[i] = i < filled ? '=' : (i == filled ? '>' : ' ');
  bar[30] = '\0';
  std::fprintf(out_, "\r[%s] %3d%%  %.2f of %.2f GiB, %.0f s left, %.1f MiB/s   ", bar, percent,
               static_cast<double>(done) / gib, static_cast<double>(total) / gib, left, rate / mib);
  line_open_ = done != total;
  if (done == total) std::fputc('\n', out_);
  std::fflush(out_);
}

void ProgressBar::Break() {
  if (line_open_) std::fputc('\n', out_);
  line_open_ = false;
}

}  // namespace autan::cli
