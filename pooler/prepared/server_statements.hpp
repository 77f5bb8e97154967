// The statements one server connection has prepared, least recently used first out.
#pragma once

#include <cstdint>
#include <list>
#include <unordered_map>
#include <vector>

#include "pooler/prepared/statement_registry.hpp"

namespace pgopt::pooler::prepared {

// Used by one client at a time (the one the server is attached to), so no locking. Mirrors what the
// server really has only if every change the pooler makes on the server goes through here in the
// order it is sent; a reset (DISCARD ALL) must clear() it.
class ServerStatements {
 public:
  // True if the server has `s`; marks it used in the current sync group.
  bool has(const Statement& s);
  // Records `s` as prepared. Statements over `capacity` come back in `evicted`, oldest first, for
  // the caller to Close on the server; ones used since the last Sync are never evicted (a portal
  // bound from one would be closed with it), so the set may exceed capacity until the next Sync.
  void add(StatementPtr s, size_t capacity, std::vector<StatementPtr>& evicted);
  void remove(uint64_t id);
  void clear();
  // A Sync went to the server: statements used before it may now be evicted.
  void next_group() { ++group_; }
  size_t size() const { return by_id_.size(); }

  uint64_t hits = 0, misses = 0, evictions = 0;

 private:
  struct Entry {
    StatementPtr stmt;
    uint64_t group;
  };
  std::list<Entry> lru_;  // front: most recently used
  std::unordered_map<uint64_t, std::list<Entry>::iterator> by_id_;
  uint64_t group_ = 0;
};

}  // namespace pgopt::pooler::prepared
