// Per-worker capture statistics: bounded entries, reservoirs, and the merge across workers.
#include "pooler/capture/store.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

namespace pgopt::pooler::capture {

double nearest_rank(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t rank = size_t(std::ceil(p / 100.0 * double(values.size())));
  rank = std::clamp<size_t>(rank, 1, values.size());
  return values[rank - 1];
}

void LiveSettings::set(const PoolerSettings& p) {
  enabled.store(p.capture, std::memory_order_relaxed);
  samples.store(p.capture_samples, std::memory_order_relaxed);
  max_queries.store(p.capture_max_queries, std::memory_order_relaxed);
  slow_ns.store(std::chrono::duration_cast<std::chrono::nanoseconds>(p.slow_query_threshold).count(),
                std::memory_order_relaxed);
}

WorkerStore::WorkerStore(uint64_t seed) : rng_(seed * 0x9e3779b97f4a7c15ull + 1) {}

Stats* WorkerStore::entry(std::string_view database, const Shape& shape) {
  if (!last_db_ || last_db_name_ != database) {
    auto it = dbs_.find(database);
    if (it == dbs_.end()) it = dbs_.emplace(std::string(database), Db{}).first;
    last_db_ = &it->second;
    last_db_name_.assign(database);
  }
  auto& slot = last_db_->by_fp[shape.fingerprint];
  if (slot) return slot.get();
  if (size_ >= size_t(std::max(1, settings.max_queries.load(std::memory_order_relaxed)))) {
    last_db_->by_fp.erase(shape.fingerprint);
    return nullptr;
  }
  slot = std::make_unique<Stats>();
  slot->database.assign(database);
  slot->fingerprint = shape.fingerprint;
  slot->query = shape.normalized;
  ++size_;
  return slot.get();
}

void WorkerStore::record_cache_hit(std::string_view database, std::string_view sql) {
  if (!enabled()) return;
  const ShapePtr shape = shapes.statement(sql);
  if (!shape) return;
  if (Stats* e = entry(database, *shape)) ++e->cache_hits;
}

void WorkerStore::record(Stats* e, double ms, bool error, uint64_t rows, bool replica) {
  ++statements_;
  if (!e) {
    ++dropped_;
    return;
  }
  ++e->calls;
  if (error) ++e->errors;
  e->rows += rows;
  ++(replica ? e->replica_calls : e->primary_calls);
  e->total_ms += ms;
  e->max_ms = std::max(e->max_ms, ms);
  if (e->durations_ms.size() < kMaxDurations) {
    e->durations_ms.push_back(ms);
  } else if (uint64_t j = rng_.below(e->calls); j < kMaxDurations) {
    e->durations_ms[j] = ms;
  }
}

std::string* WorkerStore::sample_slot(Stats* e) {
  if (!e || !settings.samples.load(std::memory_order_relaxed)) return nullptr;
  ++e->samples_seen;
  if (e->samples.size() < kMaxSamples) return &e->samples.emplace_back();
  uint64_t j = rng_.below(e->samples_seen);
  return j < kMaxSamples ? &e->samples[j] : nullptr;
}

Snapshot WorkerStore::snapshot() const {
  Snapshot s;
  s.started_at = started_at_;
  s.taken_at = std::chrono::system_clock::now();
  s.statements = statements_;
  s.dropped_calls = dropped_;
  for (const auto& [name, db] : dbs_)
    for (const auto& [fp, e] : db.by_fp)
      if (e->calls > 0 || e->cache_hits > 0) s.queries.push_back(*e);
  return s;
}

namespace {

// Combines two uniform samples of populations `na` and `nb` into one of at most `cap` items,
// each side contributing in proportion to its population.
template <class T>
std::vector<T> combine(std::vector<T> a, uint64_t na, std::vector<T> b, uint64_t nb, size_t cap, Rng& rng) {
  if (a.size() + b.size() <= cap) {
    a.insert(a.end(), std::make_move_iterator(b.begin()), std::make_move_iterator(b.end()));
    return a;
  }
  const double share = na + nb ? double(na) / double(na + nb) : 0.5;
  size_t ka = size_t(std::llround(share * double(cap)));
  ka = std::clamp(ka, cap > b.size() ? cap - b.size() : size_t(0), std::min(a.size(), cap));
  const size_t kb = std::min(cap - ka, b.size());
  auto pick = [&rng](std::vector<T>& v, size_t k) {  // k random elements moved to the front
    for (size_t i = 0; i < k; ++i) std::swap(v[i], v[i + rng.below(v.size() - i)]);
    v.resize(k);
  };
  pick(a, ka);
  pick(b, kb);
  a.insert(a.end(), std::make_move_iterator(b.begin()), std::make_move_iterator(b.end()));
  return a;
}

}  // namespace

Snapshot merge(std::vector<Snapshot> parts, size_t max_queries, uint64_t rng_seed) {
  Snapshot out;
  Rng rng(rng_seed);
  std::map<std::pair<std::string, uint64_t>, Stats> all;
  bool first = true;
  for (auto& p : parts) {
    if (first || p.started_at < out.started_at) out.started_at = p.started_at;
    if (first || p.taken_at > out.taken_at) out.taken_at = p.taken_at;
    first = false;
    out.statements += p.statements;
    out.dropped_calls += p.dropped_calls;
    for (auto& q : p.queries) {
      auto [it, fresh] = all.try_emplace(std::pair<std::string, uint64_t>(q.database, q.fingerprint));
      Stats& m = it->second;
      if (fresh) {
        m = std::move(q);
        continue;
      }
      m.durations_ms = combine(std::move(m.durations_ms), m.calls, std::move(q.durations_ms), q.calls, kMaxDurations, rng);
      m.samples = combine(std::move(m.samples), m.samples_seen, std::move(q.samples), q.samples_seen, kMaxSamples, rng);
      m.calls += q.calls;
      m.errors += q.errors;
      m.rows += q.rows;
      m.primary_calls += q.primary_calls;
      m.replica_calls += q.replica_calls;
      m.cache_hits += q.cache_hits;
      m.total_ms += q.total_ms;
      m.max_ms = std::max(m.max_ms, q.max_ms);
      m.samples_seen += q.samples_seen;
    }
  }
  out.queries.reserve(all.size());
  for (auto& [k, v] : all) out.queries.push_back(std::move(v));
  if (out.queries.size() > max_queries) {
    // Workers can each hold capture_max_queries different fingerprints: keep the busiest.
    std::sort(out.queries.begin(), out.queries.end(), [](const Stats& a, const Stats& b) {
      return std::tie(b.calls, b.total_ms) < std::tie(a.calls, a.total_ms);
    });
    for (size_t i = max_queries; i < out.queries.size(); ++i) out.dropped_calls += out.queries[i].calls;
    out.queries.resize(max_queries);
  }
  std::stable_sort(out.queries.begin(), out.queries.end(),
                   [](const Stats& a, const Stats& b) { return a.total_ms > b.total_ms; });
  return out;
}

}  // namespace pgopt::pooler::capture
