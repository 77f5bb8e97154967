// PAUSE/RESUME/KILL from the admin console: which databases may not start new server work.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace pgopt::pooler {

// Read on every attach, so the common case (nothing paused) is one relaxed load and no lock.
class Pauses {
 public:
  enum class Change { Done, Already, NotPaused };

  bool paused(std::string_view database) const {
    if (active_.load(std::memory_order_acquire) == 0) return false;
    std::lock_guard lk(mu_);
    return all_ || databases_.contains(database);
  }
  // An empty name means every database.
  Change pause(const std::string& database) {
    std::lock_guard lk(mu_);
    if (all_ || (!database.empty() && databases_.contains(database))) return Change::Already;
    if (database.empty())
      all_ = true;
    else
      databases_.insert(database);
    active_.store(1, std::memory_order_release);
    return Change::Done;
  }
  // RESUME without a name lifts every pause; with one, only that database's own pause (a PAUSE of
  // every database is lifted by RESUME without a name). Every waiter registered by wake_on_resume()
  // is woken (after the lock is released) and checks again whether its own database is free.
  Change resume(const std::string& database) {
    std::vector<std::function<void()>> wake;
    {
      std::lock_guard lk(mu_);
      if (database.empty()) {
        if (!all_ && databases_.empty()) return Change::NotPaused;
        all_ = false;
        databases_.clear();
      } else if (databases_.erase(database) == 0) {
        return Change::NotPaused;
      }
      active_.store(all_ || !databases_.empty() ? 1 : 0, std::memory_order_release);
      wake.swap(wakers_);
    }
    for (auto& w : wake) w();
    return Change::Done;
  }
  // A client that found its database paused: `wake` is called by the next successful resume() (on
  // the admin console's thread, so it only posts to the client's own worker). False, and nothing
  // kept, when the database is not paused (any more): the caller goes on at once. Checked and
  // registered under one lock, so a resume cannot slip between the two.
  bool wake_on_resume(std::string_view database, std::function<void()> wake) {
    std::lock_guard lk(mu_);
    if (!all_ && !databases_.contains(database)) return false;
    wakers_.push_back(std::move(wake));
    return true;
  }
  bool all() const {
    std::lock_guard lk(mu_);
    return all_;
  }

 private:
  mutable std::mutex mu_;
  std::atomic<int> active_{0};
  bool all_ = false;
  std::set<std::string, std::less<>> databases_;
  std::vector<std::function<void()>> wakers_;  // until the next resume(); one per waiting client
};

}  // namespace pgopt::pooler
