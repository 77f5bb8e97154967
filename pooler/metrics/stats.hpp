// Per-database statistics (SHOW STATS, /metrics): one set of counters per worker, summed on read.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

#include "pooler/metrics/histogram.hpp"

namespace pgopt::pooler::metrics {

// Written by one thread only (its worker), read by any. A relaxed load and store is a plain add
// (no lock prefix, no shared cache line with other workers), and a reader never sees a torn value.
class Counter {
 public:
  void add(uint64_t d) noexcept { v_.store(v_.load(std::memory_order_relaxed) + d, std::memory_order_relaxed); }
  uint64_t load() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// A histogram a worker records into and anyone reads (same single-writer rule as Counter).
class LiveHistogram {
 public:
  void record(uint64_t us) noexcept {
    buckets_[bucket_of(us)].add(1);
    sum_us_.add(us);
  }
  HistogramData read() const;

 private:
  std::array<Counter, kBuckets> buckets_;
  Counter sum_us_;
};

// Who put an error in front of a client: the server (an ErrorResponse relayed), or pgopt in its
// own name (a FATAL it closed the client with, a statement its router refused).
enum class ErrorSource : uint8_t { Server, Pooler };

// Errors by SQLSTATE, written by one worker and read by anyone, without a lock: a fixed table of
// (code, count) slots the writer claims in order and publishes with a release store. 32 distinct
// codes per database and worker is far more than a workload shows; past that, codes are counted
// under "other" rather than growing the table (bounded memory, bounded label cardinality).
class ErrorCounts {
 public:
  static constexpr size_t kSlots = 32;
  // `sqlstate`: five characters; anything else is counted under "other".
  void add(ErrorSource src, std::string_view sqlstate) noexcept;
  // (sqlstate, source) -> count, "other" for the overflow.
  using Map = std::map<std::pair<std::string, ErrorSource>, uint64_t>;
  void read_into(Map& out) const;

 private:
  static constexpr uint32_t kEmpty = 0;
  static uint32_t key_of(ErrorSource src, std::string_view sqlstate) noexcept;
  std::array<std::atomic<uint32_t>, kSlots> keys_{};
  std::array<Counter, kSlots> counts_;
  std::array<Counter, 2> other_;  // by source
};

// A database's totals at one moment (times in microseconds).
struct DbStats {
  uint64_t xact_count = 0, query_count = 0;
  uint64_t received = 0, sent = 0;  // bytes from and to clients
  uint64_t xact_time_us = 0, query_time_us = 0, wait_time_us = 0;
  uint64_t routed_primary = 0, routed_replica = 0;  // queries of a read/write-split database, by where they ran
  HistogramData query, xact;
  ErrorCounts::Map errors;  // clients' errors by (SQLSTATE, source)
  DbStats& operator+=(const DbStats& o);
};

// One database's counters on one worker. Lives as long as the process (sessions keep a pointer).
// Cache-line aligned so two workers' counters never share a line.
struct alignas(64) DbCounters {
  Counter xact_count, query_count, received, sent, xact_time_us, query_time_us, wait_time_us;
  Counter routed_primary, routed_replica;
  LiveHistogram query, xact;
  ErrorCounts errors;
  DbStats read() const;
};

// Every worker's counters. The map of databases per worker takes a mutex, but only when a client
// logs in (to find its database's counters) and when the totals are read: never per query.
class Stats {
 public:
  explicit Stats(int workers);
  // The counters `worker` writes for `database`, created on first use.
  DbCounters& counters(int worker, std::string_view database);
  // The sum over workers, by database.
  std::map<std::string, DbStats, std::less<>> collect() const;

 private:
  struct Slot {
    mutable std::mutex mu;
    std::map<std::string, std::unique_ptr<DbCounters>, std::less<>> dbs;
  };
  std::vector<std::unique_ptr<Slot>> slots_;
};

}  // namespace pgopt::pooler::metrics
