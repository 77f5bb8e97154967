// A bounded LRU of one analysis per statement key: the one cache shape behind every per-worker
// statement cache of sql/ (ClassifierCache, CacheFactsMemo), so a repeated statement costs a
// literal-free scan and a hash lookup instead of a parse. Not thread-safe: one per worker thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace pgopt::sql {

// The key of a text for a TextMemo: literal_free_key(sql) when it applies (`WHERE id = 1` and
// `WHERE id = 2` share an entry; comments, and so hints, stay in it), else the exact text. `keep`
// says whether the result may be kept: not for texts over `max_length` (rarely repeated verbatim,
// they would crowd out the short ones), nor for an exact text that starts with the masked keys'
// marker (it could pose as another statement's key).
struct TextKey {
  std::string_view key;
  bool keep = false;
};
TextKey text_key(std::string_view sql, std::string& scratch, size_t max_length);

template <class V>
class TextMemo {
 public:
  explicit TextMemo(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {
    index_.reserve(std::min<size_t>(capacity_, 1 << 16));
  }
  TextMemo(const TextMemo&) = delete;
  TextMemo& operator=(const TextMemo&) = delete;

  // The value kept for `key`, made the most recently used; null when there is none.
  V* find(std::string_view key) {
    auto it = index_.find(key);
    if (it == index_.end()) {
      ++misses_;
      return nullptr;
    }
    ++hits_;
    if (it->second != lru_.begin()) lru_.splice(lru_.begin(), lru_, it->second);
    return &it->second->value;
  }

  // Keeps `value` for `key` (not already kept), evicting the least recently used when full. The
  // reference stays valid until the next insert().
  V& insert(std::string_view key, V value) {
    if (index_.size() >= capacity_) {
      index_.erase(std::string_view(lru_.back().key));
      lru_.pop_back();
    }
    lru_.push_front(Entry{std::string(key), std::move(value)});
    // The index views the list node's own string, which never moves while the node lives.
    index_.emplace(std::string_view(lru_.front().key), lru_.begin());
    return lru_.front().value;
  }

  // A text that could not be kept (TextKey::keep false) counts as a miss without a lookup.
  void note_uncached() { ++misses_; }

  size_t hits() const { return hits_; }
  size_t misses() const { return misses_; }
  size_t size() const { return index_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  struct Entry {
    std::string key;
    V value;
  };
  size_t capacity_;
  std::list<Entry> lru_;  // most recently used first; list nodes keep `key` at a stable address
  std::unordered_map<std::string_view, typename std::list<Entry>::iterator> index_;
  size_t hits_ = 0;
  size_t misses_ = 0;
};

}  // namespace pgopt::sql
