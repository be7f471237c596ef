// A one-line progress bar on stderr, drawn only when stderr is a terminal.
#pragma once
#include <chrono>
#include <string>

namespace dawn {

class Progress {
 public:
  explicit Progress(std::string label);
  ~Progress();
  void update(size_t done, size_t total);

 private:
  std::string label_;
  bool tty_;
  int last_pct_ = -1;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace dawn
