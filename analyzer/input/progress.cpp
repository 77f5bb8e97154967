// Progress line: bytes of input consumed (compressed bytes for .gz/.zst) against the total size.
#include "analyzer/input/progress.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace pgopt::analyzer::input {

Progress::Progress(bool enabled, uint64_t total_bytes) : total_(total_bytes) {
  active_ = enabled && ::isatty(STDERR_FILENO);
  if (active_) thread_ = std::thread([this] { run(); });
}

Progress::~Progress() {
  if (!active_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  std::fprintf(stderr, "\r\033[K");
}

void Progress::run() {
  std::unique_lock<std::mutex> lock(mu_);
  auto start = std::chrono::steady_clock::now();
  while (!cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stop_; })) {
    double mb = double(done_.load(std::memory_order_relaxed)) / 1e6;
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (total_ > 0)
      std::fprintf(stderr, "\rreading logs: %.0f / %.0f MB (%.0f%%), %.0f MB/s\033[K", mb, double(total_) / 1e6,
                   100.0 * mb * 1e6 / double(total_), secs > 0 ? mb / secs : 0.0);
    else
      std::fprintf(stderr, "\rreading logs: %.0f MB, %.0f MB/s\033[K", mb, secs > 0 ? mb / secs : 0.0);
    std::fflush(stderr);
  }
}

}  // namespace pgopt::analyzer::input
