#include "util/progress.h"

#include <unistd.h>

#include <cstdio>

namespace dawn {

Progress::Progress(std::string label)
    : label_(std::move(label)), tty_(isatty(STDERR_FILENO) != 0), start_(std::chrono::steady_clock::now()) {}

Progress::~Progress() {
  if (tty_ && last_pct_ >= 0) std::fputc('\n', stderr);
}

void Progress::update(size_t done, size_t total) {
  if (!tty_ || total == 0) return;
  const int pct = int(done * 100 / total);
  if (pct == last_pct_) return;
  last_pct_ = pct;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const int width = 30, filled = pct * width / 100;
  std::fprintf(stderr, "\r%s [%.*s%*s] %3d%% %zu/%zu %.1fs", label_.c_str(), filled,
               "==============================", width - filled, "", pct, done, total, secs);
  std::fflush(stderr);
}

}  // namespace dawn
