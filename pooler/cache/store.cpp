// Store: an LRU list of entries, a hash index by key and one by table, all under one mutex
// (store.hpp says why).
#include "pooler/cache/store.hpp"

#include <algorithm>

#include "pooler/cache/table_name.hpp"

namespace pgopt::pooler::cache {

Store::Store(StoreLimits limits, size_t rule_count) : limits_(limits), counters_(rule_count) {}

FillTicket Store::begin_fill() const {
  std::lock_guard lock(mu_);
  return FillTicket{seq_};
}

bool Store::invalidated_since(std::span<const std::string> tables, uint64_t seq) const {
  if (all_invalidated_at_ > seq) return true;
  for (const std::string& t : tables) {
    auto it = invalidated_at_.find(t);
    if (it != invalidated_at_.end() && it->second > seq) return true;
  }
  return false;
}

PutResult Store::put(const Key& key, std::span<const std::string> tables, std::string reply,
                     Clock::time_point expires, size_t rule, FillTicket ticket) {
  if (rule >= counters_.size()) return PutResult::BadRule;
  // Built outside the lock: the only allocations a put makes.
  Entry e{key, nullptr, {}, expires, ticket.seq, 0, rule};
  for (const std::string& t : tables) e.tables.emplace_back(table_key(t));
  std::sort(e.tables.begin(), e.tables.end());
  e.tables.erase(std::unique(e.tables.begin(), e.tables.end()), e.tables.end());
  e.charge = reply.size() + key.bytes().size() + kEntryOverhead;
  for (const std::string& t : e.tables) e.charge += t.size();
  const bool too_large = reply.size() > limits_.max_entry_size || e.charge > limits_.max_memory;
  e.reply = std::make_shared<const std::string>(std::move(reply));

  std::lock_guard lock(mu_);
  RuleCounters& c = counters_[rule];
  if (too_large) {
    ++c.refused;
    return PutResult::TooLarge;
  }
  if (invalidated_since(e.tables, ticket.seq) || !gate_allows(key.database(), ticket.seq)) {
    ++c.refused;
    return PutResult::Invalidated;
  }
  PutResult result = PutResult::Stored;
  if (auto old = by_key_.find(KeyRef{&key}); old != by_key_.end()) {
    remove(old->second, Why::Replaced);
    result = PutResult::Replaced;
  }
  while (!lru_.empty() && bytes_ + e.charge > limits_.max_memory) remove(std::prev(lru_.end()), Why::Evicted);
  lru_.push_front(std::move(e));
  Entry& stored = lru_.front();
  by_key_.emplace(KeyRef{&stored.key}, lru_.begin());
  for (const std::string& t : stored.tables) by_table_[t].insert(&stored);
  bytes_ += stored.charge;
  ++c.entries;
  c.bytes += stored.charge;
  return result;
}

Hit Store::lookup(const Key& key, size_t rule, Clock::time_point now, const ClientCommits* client) {
  std::lock_guard lock(mu_);
  RuleCounters* c = rule < counters_.size() ? &counters_[rule] : nullptr;
  auto found = by_key_.find(KeyRef{&key});
  if (found == by_key_.end()) {
    if (c) ++c->misses;
    return {};
  }
  List::iterator it = found->second;
  if (it->expires <= now) {
    remove(it, Why::Expired);
    if (c) ++c->misses;
    return {};
  }
  if (!gate_allows(key.database(), it->filled_seq)) {
    // Filled before its database's stream last came up (or the stream is down): it may have
    // missed a change, and it never becomes servable again.
    remove(it, Why::Invalidated);
    if (c) ++c->misses;
    return {};
  }
  // The entry stays: it is fine for every client that has not just written one of its tables.
  if (client && !client->allows(it->filled_seq, it->tables)) {
    if (c) ++c->misses;
    return {};
  }
  lru_.splice(lru_.begin(), lru_, it);
  if (c) ++c->hits;
  return Hit{it->reply, it->filled_seq};
}

uint64_t Store::invalidate(std::span<const std::string> tables, bool all) {
  std::vector<std::string> names;
  names.reserve(tables.size());
  for (const std::string& t : tables) names.emplace_back(table_key(t));
  std::lock_guard lock(mu_);
  const uint64_t seq = ++seq_;
  if (all) {
    all_invalidated_at_ = seq;
    while (!lru_.empty()) remove(lru_.begin(), Why::Invalidated);
    return seq;
  }
  for (const std::string& name : names) {
    invalidated_at_[name] = seq;
    auto set = by_table_.find(name);
    if (set == by_table_.end()) continue;
    // remove() edits this set (and may erase it): take the entries out first.
    std::vector<Entry*> victims(set->second.begin(), set->second.end());
    for (Entry* e : victims) remove(by_key_.at(KeyRef{&e->key}), Why::Invalidated);
  }
  return seq;
}

bool Store::gate_allows(std::string_view database, uint64_t filled_seq) const {
  if (gates_.empty()) return true;
  auto g = gates_.find(database);
  if (g == gates_.end()) return true;
  return g->second.state == StreamState::Up && filled_seq >= g->second.up_since;
}

void Store::watch_stream(const std::string& database) {
  std::lock_guard lock(mu_);
  gates_.try_emplace(database);
}

uint64_t Store::stream_up(std::string_view database) {
  std::lock_guard lock(mu_);
  auto g = gates_.find(database);
  if (g == gates_.end()) g = gates_.emplace(std::string(database), Gate{}).first;
  // A new sequence number: every ticket taken before it belongs to the time before the stream.
  g->second = Gate{StreamState::Up, ++seq_};
  return g->second.up_since;
}

void Store::stream_down(std::string_view database) {
  std::lock_guard lock(mu_);
  auto g = gates_.find(database);
  if (g == gates_.end()) g = gates_.emplace(std::string(database), Gate{}).first;
  g->second.state = StreamState::Down;
}

StreamState Store::stream_state(std::string_view database) const {
  std::lock_guard lock(mu_);
  auto g = gates_.find(database);
  return g == gates_.end() ? StreamState::Down : g->second.state;
}

bool Store::stream_watched(std::string_view database) const {
  std::lock_guard lock(mu_);
  return gates_.find(database) != gates_.end();
}

void Store::remove(List::iterator it, Why why) {
  Entry& e = *it;
  RuleCounters& c = counters_[e.rule];
  switch (why) {
    case Why::Evicted: ++c.evictions; break;
    case Why::Expired: ++c.expirations; break;
    case Why::Invalidated: ++c.invalidations; break;
    case Why::Cleared:
    case Why::Replaced: break;
  }
  --c.entries;
  c.bytes -= e.charge;
  bytes_ -= e.charge;
  for (const std::string& t : e.tables) {
    auto set = by_table_.find(t);
    if (set == by_table_.end()) continue;
    set->second.erase(&e);
    if (set->second.empty()) by_table_.erase(set);
  }
  by_key_.erase(KeyRef{&e.key});
  lru_.erase(it);
}

void Store::clear() {
  std::lock_guard lock(mu_);
  while (!lru_.empty()) remove(lru_.begin(), Why::Cleared);
}

void Store::clear_rule(size_t rule) {
  std::lock_guard lock(mu_);
  for (auto it = lru_.begin(); it != lru_.end();) {
    auto next = std::next(it);
    if (it->rule == rule) remove(it, Why::Cleared);
    it = next;
  }
}

std::vector<RuleCounters> Store::counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

uint64_t Store::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

size_t Store::size() const {
  std::lock_guard lock(mu_);
  return lru_.size();
}

}  // namespace pgopt::pooler::cache
