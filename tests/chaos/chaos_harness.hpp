// The fault suite's shared pieces: load generators that count what clients saw, and killing and
// restarting the cluster's servers (always by the PID in postmaster.pid, never by name).
#pragma once

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <poll.h>

#include "harness.hpp"
#include "split_harness.hpp"
#include "support/loopback.hpp"

namespace pgopt::test::chaos {

using namespace std::chrono_literals;

inline const ClusterEnv& env() { return ClusterEnv::instance(); }

// The postmaster PID of `node` ("primary" or "replica"): the first line of its postmaster.pid.
inline pid_t postmaster_pid(const std::string& node) {
  std::ifstream in(std::filesystem::path(env().get("PGOPT_DATA_DIR")) / node / "postmaster.pid");
  pid_t pid = 0;
  in >> pid;
  return pid;
}

inline int pgctl(const std::string& node, const std::string& args) {
  return env().cluster("pgctl " + split::cluster_dir() + " " + node + " " + args + " >/dev/null 2>&1");
}

// Starts `node` again after a kill -9: pg_ctl refuses while orphaned backends still hold the old
// shared memory, so it is retried until they are gone.
inline bool start_again(const std::string& node, std::chrono::seconds patience = 60s) {
  return eventually([&] { return pgctl(node, "start -w -t 30") == 0; }, patience);
}

// Puts the shared cluster back as every other test expects it: both servers up, the replica
// streaming and caught up.
inline bool heal_cluster() {
  if (!port_open(env().primary_port) && !start_again("primary")) return false;
  return split::restore_replica();
}

// What a group of client threads saw: statements that succeeded, failed (with the first few
// errors kept for the failure message), and the longest single statement.
struct Tally {
  std::atomic<uint64_t> ok{0}, failed{0};
  std::atomic<int64_t> longest_us{0};
  std::mutex mu;
  std::vector<std::string> errors;
  void failure(const std::string& what) {
    ++failed;
    std::lock_guard lk(mu);
    if (errors.size() < 5) errors.push_back(what);
  }
  void took(std::chrono::steady_clock::duration d) {
    const int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
    int64_t cur = longest_us.load();
    while (us > cur && !longest_us.compare_exchange_weak(cur, us)) {
    }
  }
  std::string report() {
    std::lock_guard lk(mu);
    std::string s = std::to_string(ok.load()) + " ok, " + std::to_string(failed.load()) + " failed";
    for (auto& e : errors) s += "\n  " + e;
    return s;
  }
};

// Threads that run `body(thread index)` in a loop until stopped; joined by stop() or the destructor.
class Load {
 public:
  Load(int threads, std::function<void(int, const std::atomic<bool>&)> body) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this, i, body] { body(i, stop_); });
  }
  ~Load() { stop(); }
  void stop() {
    stop_ = true;
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

// Waits until the peer closes `fd` (EOF or reset), reading and dropping what it sends; false when
// it is still open after `patience`.
inline bool closed_by_peer(int fd, std::chrono::milliseconds patience) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return true;
  }
  return false;
}

}  // namespace pgopt::test::chaos
