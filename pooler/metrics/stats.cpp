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
