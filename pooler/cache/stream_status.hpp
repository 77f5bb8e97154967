// What each database's change stream (logical-decoding invalidation, pooler/change_stream.cpp) is
// doing and how stale the cache may be: its state, the delay between a transaction's commit on the
// server and pgopt's invalidation of its tables, counters. Written by the stream (the daemon's
// thread), read by SHOW CACHE and /metrics; one mutex, touched once per committed transaction.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "pooler/cache/store.hpp"

namespace pgopt::pooler::cache {

struct StreamSnapshot {
  std::string database;
  StreamState state = StreamState::Down;
  std::string detail;  // what it is doing or why it is down, for SHOW CACHE and the log
  uint64_t transactions = 0;  // committed transactions decoded (with or without cached tables)
  uint64_t invalidations = 0;  // of those, the ones that invalidated something
  uint64_t connects = 0;       // times the stream came up
  uint64_t flushed_lsn = 0;    // the last position acknowledged to the server
  // Commit-to-invalidation delay, seconds: last, max, and a histogram (cumulative at render time).
  double lag_last = 0, lag_max = 0, lag_sum = 0;
  uint64_t lag_count = 0;
  static constexpr std::array<double, 11> kLagBuckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,   0.5,   1,    5};
  std::array<uint64_t, kLagBuckets.size()> lag_buckets{};  // per bucket, not cumulative
};

class StreamStats {
 public:
  void set_state(std::string_view database, StreamState state, std::string detail) {
    std::lock_guard lock(mu_);
    StreamSnapshot& s = at(database);
    if (state == StreamState::Up && s.state != StreamState::Up) ++s.connects;
    s.state = state;
    s.detail = std::move(detail);
  }
  void committed(std::string_view database, double lag_seconds, bool invalidated) {
    std::lock_guard lock(mu_);
    StreamSnapshot& s = at(database);
    ++s.transactions;
    if (!invalidated) return;
    ++s.invalidations;
    // A server clock ahead of ours would give a negative delay: count it as none.
    lag_seconds = std::max(0.0, lag_seconds);
    s.lag_last = lag_seconds;
    s.lag_max = std::max(s.lag_max, lag_seconds);
    s.lag_sum += lag_seconds;
    ++s.lag_count;
    for (size_t i = 0; i < StreamSnapshot::kLagBuckets.size(); ++i) {
      if (lag_seconds <= StreamSnapshot::kLagBuckets[i]) {
        ++s.lag_buckets[i];
        break;
      }
    }
  }
  void flushed(std::string_view database, uint64_t lsn) {
    std::lock_guard lock(mu_);
    at(database).flushed_lsn = lsn;
  }
  std::vector<StreamSnapshot> snapshot() const {
    std::lock_guard lock(mu_);
    std::vector<StreamSnapshot> out;
    for (const auto& [name, s] : by_db_) out.push_back(s);
    return out;
  }

 private:
  StreamSnapshot& at(std::string_view database) {
    auto it = by_db_.find(database);
    if (it == by_db_.end()) {
      it = by_db_.emplace(std::string(database), StreamSnapshot{}).first;
      it->second.database = std::string(database);
    }
    return it->second;
  }
  mutable std::mutex mu_;
  std::map<std::string, StreamSnapshot, std::less<>> by_db_;
};

}  // namespace pgopt::pooler::cache
