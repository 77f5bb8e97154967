// Per-fingerprint statement statistics: one store per worker thread (no locks on the hot path),
// merged into a Snapshot for SHOW QUERIES and the capture file.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pooler/capture/shape.hpp"
#include "pooler/config/config.hpp"

namespace pgopt::pooler::capture {

inline constexpr size_t kMaxDurations = 64;  // reservoir of single durations, for p95
inline constexpr size_t kMaxSamples = 5;     // reservoir of statements with their literals

// One (database, fingerprint): what a worker counted, and after merging what all counted.
struct Stats {
  std::string database;  // the client-side name ([databases.NAME])
  std::string dbname;    // the server-side name; filled when a snapshot is taken
  uint64_t fingerprint = 0;
  std::string query;     // normalized
  uint64_t calls = 0, errors = 0, rows = 0;
  uint64_t primary_calls = 0, replica_calls = 0;
  // Answered by the result cache without a server: not calls, not durations (an index cannot make
  // them faster, and their microseconds must not make the statement look cheap to `pgopt analyze`).
  uint64_t cache_hits = 0;
  double total_ms = 0, max_ms = 0;
  std::vector<double> durations_ms;  // uniform sample of the `calls` durations
  uint64_t samples_seen = 0;         // statements offered to `samples`
  std::vector<std::string> samples;  // uniform sample of them, with literals
};

// Nearest-rank percentile (p in (0, 100]) of `values`; 0 when empty.
double nearest_rank(std::vector<double> values, double p);

// Small, fast and good enough for reservoir sampling (xorshift64*).
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed ? seed : 0x9e3779b97f4a7c15ull) {}
  uint64_t next() {
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return s_ * 0x2545f4914f6cdd1dull;
  }
  uint64_t below(uint64_t n) { return n ? next() % n : 0; }

 private:
  uint64_t s_;
};

// The capture settings a worker reads on every statement: atomics written by the Daemon on reload,
// read relaxed (plain loads) by the worker.
struct LiveSettings {
  std::atomic<bool> enabled{true};
  std::atomic<bool> samples{true};
  std::atomic<int> max_queries{5000};
  std::atomic<int64_t> slow_ns{0};  // 0 = off
  void set(const PoolerSettings& p);
};

struct Snapshot {
  std::chrono::system_clock::time_point started_at, taken_at;
  uint64_t statements = 0;     // counted, including dropped_calls
  uint64_t dropped_calls = 0;  // not kept: capture_max_queries fingerprints were held already
  std::vector<Stats> queries;  // by total_ms, highest first
};

// One worker's statistics. Touched only on that worker's thread (copied there by snapshot()).
class WorkerStore {
 public:
  explicit WorkerStore(uint64_t seed = 1);

  LiveSettings settings;
  ShapeCache shapes;

  bool enabled() const { return settings.enabled.load(std::memory_order_relaxed); }
  // Whether sessions should follow their statements at all (capture, or the slow-query log).
  bool active() const { return enabled() || settings.slow_ns.load(std::memory_order_relaxed) > 0; }

  // The entry of (database, shape), created if capture_max_queries allows; null means the call is
  // counted in dropped_calls. The pointer stays valid for the store's life (entries are never removed).
  Stats* entry(std::string_view database, const Shape& shape);
  // A finished execution. `entry` null: dropped.
  void record(Stats* entry, double ms, bool error, uint64_t rows, bool replica);
  // A statement the result cache answered (one statement, as the cache only serves those).
  void record_cache_hit(std::string_view database, std::string_view sql);
  // Offers a statement with literals to the entry's sample reservoir (capture_samples permitting).
  // Returns the slot to fill, or null to skip it: copying the text is left to the caller, so a
  // statement that is not kept costs no copy.
  std::string* sample_slot(Stats* entry);

  // Copies of every entry with calls or cache hits, and the totals.
  Snapshot snapshot() const;
  size_t size() const { return size_; }

 private:
  struct Db {
    std::unordered_map<uint64_t, std::unique_ptr<Stats>> by_fp;
  };
  std::map<std::string, Db, std::less<>> dbs_;
  // The last database looked up: a worker's sessions mostly share one.
  std::string last_db_name_;
  Db* last_db_ = nullptr;
  size_t size_ = 0;
  uint64_t statements_ = 0, dropped_ = 0;
  Rng rng_;
  std::chrono::system_clock::time_point started_at_ = std::chrono::system_clock::now();
};

// Merges worker snapshots: counters add up, reservoirs are combined in proportion to the calls
// each represents, and the result is cut to `max_queries` entries by calls (the rest counted as
// dropped). Sorted by total_ms, highest first. `rng_seed` makes the reservoir choice repeatable.
Snapshot merge(std::vector<Snapshot> parts, size_t max_queries, uint64_t rng_seed = 42);

}  // namespace pgopt::pooler::capture
