#include "cli/pull_progress.h"

#include <cstdio>
#include <string>

namespace autan::cli {
namespace {

std::string Bytes(double b) {
  char text[32];
  if (b >= 1 << 30) {
    std::snprintf(text, sizeof(text), "%.2f GiB", b / (1 << 30));
  } else {
    std::snprintf(text, sizeof(text), "%.1f MiB", b / (1 << 20));
  }
  return text;
}

std::string Duration(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char text[32];
  if (s >= 3600) {
    std::snprintf(text, sizeof(text), "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(text, sizeof(text), "%ld:%02ld", s / 60, s % 60);
  }
  return text;
}

}  // namespace

PullProgress::PullProgress(bool tty) : tty_(tty), start_(Clock::now()), last_draw_(start_) {}

void PullProgress::Update(uint64_t done, uint64_t total, uint64_t resumed_at) {
  const Clock::time_point now = Clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  // The rate of this run only: resumed bytes came from an earlier one.
  const double rate = elapsed > 0 ? static_cast<double>(done - resumed_at) / elapsed : 0;
  const double frac = total ? static_cast<double>(done) / static_cast<double>(total) : 0;
  const std::string left =
      total && rate > 0 ? Duration(static_cast<double>(total - done) / rate) : std::string("?");
  if (tty_) {
    // Redrawn ten times a second at most, and once at the end.
    if (drawn_ && done != total && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    drawn_ = true;
    if (total == 0) {
      std::fprintf(stderr, "\r%s  %s/s   ", Bytes(static_cast<double>(done)).c_str(),
                   Bytes(rate).c_str());
      return;
    }
    char bar[26];
    const int filled = static_cast<int>(frac * 25);
    for (int i = 0; i < 25; ++i) bar[i] = i < filled ? '=' : (i == filled ? '>' : ' ');
    bar[25] = '\0';
    std::fprintf(stderr, "\r[%s] %5.1f%%  %s / %s  %s/s  ETA %s   ", bar, frac * 100,
                 Bytes(static_cast<double>(done)).c_str(),
                 Bytes(static_cast<double>(total)).c_str(), Bytes(rate).c_str(), left.c_str());
    return;
  }
  if (total == 0) return;
  const int tenth = static_cast<int>(frac * 10);
  if (tenth <= last_tenth_) return;
  last_tenth_ = tenth;
  std::fprintf(stderr, "autan: %3d%%  %s of %s, %s/s, %s left\n", tenth * 10,
               Bytes(static_cast<double>(done)).c_str(), Bytes(static_cast<double>(total)).c_str(),
               Bytes(rate).c_str(), left.c_str());
}

void PullProgress::Break() {
  if (tty_ && drawn_) std::fputc('\n', stderr);
  drawn_ = false;
}

}  // namespace autan::cli
