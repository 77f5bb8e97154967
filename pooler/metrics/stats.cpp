// Per-database statistics: the per-worker counters and their sum.
#include "pooler/metrics/stats.hpp"

#include <algorithm>

namespace pgopt::pooler::metrics {

HistogramData LiveHistogram::read() const {
  HistogramData d;
  for (size_t i = 0; i < kBuckets; ++i) d.counts[i] = buckets_[i].load();
  d.sum_us = sum_us_.load();
  return d;
}

uint32_t ErrorCounts::key_of(ErrorSource src, std::string_view sqlstate) noexcept {
  // Five characters of [0-9A-Z] in 6 bits each, the source in bit 30, and bit 31 set so that no
  // key is kEmpty. An invalid code gets kEmpty: counted under "other".
  if (sqlstate.size() != 5) return kEmpty;
  uint32_t k = 0;
  for (char c : sqlstate) {
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'))) return kEmpty;
    k = k << 6 | uint32_t(c - '0');
  }
  return k | uint32_t(src == ErrorSource::Pooler) << 30 | 1u << 31;
}

void ErrorCounts::add(ErrorSource src, std::string_view sqlstate) noexcept {
  const uint32_t key = key_of(src, sqlstate);
  if (key != kEmpty) {
    for (size_t i = 0; i < kSlots; ++i) {
      uint32_t k = keys_[i].load(std::memory_order_relaxed);  // the only writer: no one else changes it
      if (k == kEmpty) {
        counts_[i].add(1);  // counted before the key is published, so a reader never misses it
        keys_[i].store(key, std::memory_order_release);
        return;
      }
      if (k == key) {
        counts_[i].add(1);
        return;
      }
    }
  }
  other_[src == ErrorSource::Pooler].add(1);
}

void ErrorCounts::read_into(Map& out) const {
  for (size_t i = 0; i < kSlots; ++i) {
    const uint32_t k = keys_[i].load(std::memory_order_acquire);
    if (k == kEmpty) break;
    std::string code(5, '0');
    for (int c = 4; c >= 0; --c) code[size_t(c)] = char('0' + (k >> (6 * (4 - c)) & 63));
    out[{code, (k >> 30 & 1) ? ErrorSource::Pooler : ErrorSource::Server}] += counts_[i].load();
  }
  for (int src = 0; src < 2; ++src)
    if (uint64_t n = other_[size_t(src)].load())
      out[{"other", src ? ErrorSource::Pooler : ErrorSource::Server}] += n;
}

DbStats& DbStats::operator+=(const DbStats& o) {
  xact_count += o.xact_count;
  query_count += o.query_count;
  received += o.received;
  sent += o.sent;
  xact_time_us += o.xact_time_us;
  query_time_us += o.query_time_us;
  wait_time_us += o.wait_time_us;
  routed_primary += o.routed_primary;
  routed_replica += o.routed_replica;
  query += o.query;
  xact += o.xact;
  for (const auto& [k, n] : o.errors) errors[k] += n;
  return *this;
}

DbStats DbCounters::read() const {
  DbStats s;
  s.xact_count = xact_count.load();
  s.query_count = query_count.load();
  s.received = received.load();
  s.sent = sent.load();
  s.xact_time_us = xact_time_us.load();
  s.query_time_us = query_time_us.load();
  s.wait_time_us = wait_time_us.load();
  s.routed_primary = routed_primary.load();
  s.routed_replica = routed_replica.load();
  s.query = query.read();
  s.xact = xact.read();
  errors.read_into(s.errors);
  return s;
}

Stats::Stats(int workers) {
  for (int i = 0; i < std::max(workers, 1); ++i) slots_.push_back(std::make_unique<Slot>());
}

DbCounters& Stats::counters(int worker, std::string_view database) {
  Slot& s = *slots_[size_t(worker) % slots_.size()];
  std::lock_guard lk(s.mu);
  auto it = s.dbs.find(database);
  if (it == s.dbs.end()) it = s.dbs.emplace(std::string(database), std::make_unique<DbCounters>()).first;
  return *it->second;
}

std::map<std::string, DbStats, std::less<>> Stats::collect() const {
  std::map<std::string, DbStats, std::less<>> out;
  for (const auto& slot : slots_) {
    std::lock_guard lk(slot->mu);
    for (const auto& [name, c] : slot->dbs) out[name] += c->read();
  }
  return out;
}

}  // namespace pgopt::pooler::metrics
