// A progress line on stderr while logs are read (only when stderr is a terminal).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace pgopt::analyzer::input {

class Progress {
 public:
  // Does nothing unless `enabled` and stderr is a terminal.
  Progress(bool enabled, uint64_t total_bytes);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  std::atomic<uint64_t>* counter() { return &done_; }

 private:
  void run();
  std::atomic<uint64_t> done_{0};
  uint64_t total_;
  bool active_ = false;
  bool stop_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace pgopt::analyzer::input
