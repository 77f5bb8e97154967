// Shape -> (fingerprint, normalized text) memo, so libpg_query parses each distinct shape once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pgopt::analyzer::input {

struct ShapeInfo {
  bool ok = false;          // false: libpg_query could not parse the statement
  uint64_t fingerprint = 0;
  std::string normalized;   // constants replaced by $n (pg_query_normalize)
};

// One per worker thread (no locking on the hot path). Bounded: when `max_entries` distinct shapes
// (or `max_bytes` of text) have been seen the memo starts over, so memory follows the workload,
// not the log size.
class FingerprintCache {
 public:
  explicit FingerprintCache(size_t max_entries = size_t(1) << 18, size_t max_bytes = size_t(64) << 20);
  // `sql` is the statement the shape came from: parsed only when `shape` is new.
  const ShapeInfo& lookup(std::string_view shape, std::string_view sql);
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    uint64_t hash;
    std::string shape;
    ShapeInfo info;
  };
  void clear();
  void grow();

  size_t max_entries_, max_bytes_;
  size_t bytes_ = 0;
  std::vector<Entry> entries_;
  std::vector<uint32_t> slots_;  // open addressing: entry index + 1, 0 = empty
  uint64_t hits_ = 0, misses_ = 0;
};

// Fast 64-bit hash of a byte string (used for shapes; not for anything security-related).
uint64_t hash_bytes(std::string_view s);

}  // namespace pgopt::analyzer::input
