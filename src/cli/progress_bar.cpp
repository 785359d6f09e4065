#include "cli/progress_bar.h"

namespace autan::cli {

ProgressBar::ProgressBar(std::FILE* out, bool tty) : out_(out), tty_(tty), start_(Clock::now()) {}

double ProgressBar::Seconds() const {
  return std::chrono::duration<double>(Clock::now() - start_).count();
}

void ProgressBar::Update(uint64_t done, uint64_t total) {
  if (total == 0) return;
  const double frac = static_cast<double>(done) / static_cast<double>(total);
  const double elapsed = Seconds();
  // The rate so far predicts the rest.
  const double left = frac > 0 ? elapsed / frac - elapsed : 0;
  const double gib = 1 << 30;
  const int percent = static_cast<int>(frac * 100);
  if (!tty_) {
    const int tenths = static_cast<int>(frac * 10);
    if (tenths <= tenths_shown_) return;
    tenths_shown_ = tenths;
    std::fprintf(out_, "autan: %3d%%  %.2f of %.2f GiB, %.0f s left\n", percent,
                 static_cast<double>(done) / gib, static_cast<double>(total) / gib, left);
    std::fflush(out_);
    return;
  }
  char bar[31];
  const int filled = static_cast<int>(frac * 30);
  for (int i = 0; i < 30; ++i) bar[i] = i < filled ? '=' : (i == filled ? '>' : ' ');
  bar[30] = '\0';
  std::fprintf(out_, "\r[%s] %3d%%  %.2f of %.2f GiB, %.0f s left   ", bar, percent,
               static_cast<double>(done) / gib, static_cast<double>(total) / gib, left);
  if (done == total) std::fputc('\n', out_);
  std::fflush(out_);
}

}  // namespace autan::cli
