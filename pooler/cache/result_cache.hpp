// The process's result cache as the relay uses it: one Store and one Rules, built from the first
// config with `[cache] enabled = true` and kept for the life of the process (docs/result-cache.md:
// a reload does not rebuild them, because sessions that logged in before it would keep
// invalidating the old store while readers used the new one).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pooler/cache/rules.hpp"
#include "pooler/cache/store.hpp"
#include "pooler/cache/stream_status.hpp"
#include "pooler/config/config.hpp"

namespace pgopt::pooler::cache {

struct ResultCache {
  explicit ResultCache(const CacheConfig& c)
      : rules(c.rules),
        store(StoreLimits{c.max_memory, c.max_entry_size}, rules.slot_count()),
        stable_functions(c.stable_functions),
        uses_fingerprints(any_fingerprints(c)) {}

  Rules rules;
  Store store;
  std::vector<std::string> stable_functions;
  bool uses_fingerprints;  // a rule names fingerprints: only then is each candidate fingerprinted
  // `invalidation = "logical"`: each database's change stream (pooler/change_stream.cpp).
  StreamStats streams;

 private:
  static bool any_fingerprints(const CacheConfig& c) {
    for (const CacheRule& r : c.rules)
      if (!r.fingerprints.empty()) return true;
    return false;
  }
};

}  // namespace pgopt::pooler::cache
