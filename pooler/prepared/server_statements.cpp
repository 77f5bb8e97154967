// The statements one server connection has prepared, least recently used first out.
#include "pooler/prepared/server_statements.hpp"

namespace pgopt::pooler::prepared {

bool ServerStatements::has(const Statement& s) {
  auto it = by_id_.find(s.id);
  if (it == by_id_.end()) {
    ++misses;
    return false;
  }
  ++hits;
  it->second->group = group_;
  lru_.splice(lru_.begin(), lru_, it->second);
  return true;
}

void ServerStatements::add(StatementPtr s, size_t capacity, std::vector<StatementPtr>& evicted) {
  if (auto it = by_id_.find(s->id); it != by_id_.end()) {
    it->second->group = group_;
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  uint64_t id = s->id;
  lru_.push_front({std::move(s), group_});
  by_id_[id] = lru_.begin();
  while (by_id_.size() > capacity && !lru_.empty() && lru_.back().group != group_) {
    ++evictions;
    evicted.push_back(std::move(lru_.back().stmt));
    by_id_.erase(evicted.back()->id);
    lru_.pop_back();
  }
}

void ServerStatements::remove(uint64_t id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  lru_.erase(it->second);
  by_id_.erase(it);
}

void ServerStatements::clear() {
  lru_.clear();
  by_id_.clear();
}

}  // namespace pgopt::pooler::prepared
