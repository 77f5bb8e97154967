// Waiting on a condition with a deadline: the one place a test's poll interval sleeps
// (tests/README.md, "Waits"). A test that needs "the query is running" or "the log says so" polls
// it here rather than sleeping a guessed time that is too short on a loaded machine and too long
// on an idle one.
#pragma once

#include <chrono>
#include <thread>

namespace pgopt::test {

// Polls `cond` every `interval` until it holds or `patience` has passed; its last value. It is
// called once more at the deadline, so a condition that became true during the last interval counts.
template <class Cond>
bool poll_until(Cond&& cond, std::chrono::milliseconds patience,
                std::chrono::milliseconds interval = std::chrono::milliseconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    // time must pass: the poll interval, so the condition is not checked in a busy loop
    std::this_thread::sleep_for(interval);
  }
  return cond();
}

}  // namespace pgopt::test
