// ClassifierCache: a bounded LRU in front of classify(), keyed by the exact statement text.
#include <algorithm>
#include <utility>

#include "sql/classify.hpp"

namespace pgopt::sql {

ClassifierCache::ClassifierCache(ClassifierOptions options, size_t capacity)
    : options_(std::move(options)), capacity_(std::max<size_t>(capacity, 1)) {
  index_.reserve(std::min<size_t>(capacity_, 1 << 16));
}

const Classification& ClassifierCache::classify(std::string_view sql) {
  if (auto it = index_.find(sql); it != index_.end()) {
    ++hits_;
    if (it->second != lru_.begin()) lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->result;
  }
  ++misses_;
  Classification result = sql::classify(sql, options_);
  if (sql.size() > kMaxCachedLength) {
    uncached_ = std::move(result);
    return uncached_;
  }
  if (index_.size() >= capacity_) {
    index_.erase(std::string_view(lru_.back().sql));
    lru_.pop_back();
  }
  lru_.push_front(Entry{std::string(sql), std::move(result)});
  // The key views the list node's own string, which never moves while the node lives.
  index_.emplace(std::string_view(lru_.front().sql), lru_.begin());
  return lru_.front().result;
}

}  // namespace pgopt::sql
