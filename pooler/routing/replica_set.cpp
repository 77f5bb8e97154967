// A database's replicas as the router's caller sees them: health, replay positions, lag, and the
// choice of one for a read (load balancing, lag limit, read-your-writes).
#include "pooler/routing/replica_set.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace pgopt::pooler::routing {

std::optional<uint64_t> parse_lsn(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 >= text.size()) return std::nullopt;
  uint32_t hi = 0, lo = 0;
  auto a = std::from_chars(text.data(), text.data() + slash, hi, 16);
  auto b = std::from_chars(text.data() + slash + 1, text.data() + text.size(), lo, 16);
  if (a.ec != std::errc() || a.ptr != text.data() + slash || b.ec != std::errc() || b.ptr != text.data() + text.size())
    return std::nullopt;
  return uint64_t(hi) << 32 | lo;
}

std::string format_lsn(uint64_t lsn) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%X/%X", unsigned(lsn >> 32), unsigned(lsn & 0xffffffffu));
  return buf;
}

uint64_t insert_position_as_record_end(uint64_t lsn) {
  // Page headers: 24 bytes (short), 40 at a segment's first page (long). No record ends at either
  // offset (a record is at least 24 bytes), so these can only be "just past a header".
  constexpr uint64_t kPage = 8192;
  const uint64_t off = lsn % kPage;
  return off == 24 || off == 40 ? lsn - off : lsn;
}

ReplicaSet::ReplicaSet(std::vector<ReplicaEndpoint> replicas, ReplicaSetOptions options)
    : endpoints_(std::move(replicas)), options_(options), nodes_(endpoints_.size()) {
  rand_state_ = uint64_t(reinterpret_cast<uintptr_t>(this)) ^ uint64_t(SteadyClock::now().time_since_epoch().count());
  if (rand_state_ == 0) rand_state_ = 0x9e3779b97f4a7c15ull;
}

void ReplicaSet::set_options(const ReplicaSetOptions& o) {
  std::lock_guard lk(mu_);
  options_ = o;
}

ReplicaSetOptions ReplicaSet::options() const {
  std::lock_guard lk(mu_);
  return options_;
}

std::chrono::milliseconds ReplicaSet::lag_of(const Node& n, SteadyClock::time_point now) const {
  if (samples_.empty() || n.replay_lsn >= samples_.back().lsn) return std::chrono::milliseconds(0);
  // The newest time the primary stood at or below what the replica has replayed.
  auto it = std::upper_bound(samples_.begin(), samples_.end(), n.replay_lsn,
                             [](uint64_t lsn, const Sample& s) { return lsn < s.lsn; });
  SteadyClock::time_point since = it == samples_.begin() ? samples_.front().seen : std::prev(it)->seen;
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - since);
}

bool ReplicaSet::fit(const Node& n, int weight, uint64_t min_lsn, SteadyClock::time_point now) const {
  if (weight <= 0 || !n.known || n.promoted || now < n.banned_until) return false;
  if (now - n.polled_at > options_.stale_after) return false;
  if (min_lsn > 0 && n.replay_lsn < min_lsn) return false;
  if (options_.max_lag_bytes > 0) {
    uint64_t head = samples_.empty() ? 0 : samples_.back().lsn;
    if (head > n.replay_lsn && head - n.replay_lsn > options_.max_lag_bytes) return false;
  } else if (options_.max_lag_time.count() > 0) {
    if (lag_of(n, now) > options_.max_lag_time) return false;
  }
  return true;
}

std::optional<int> ReplicaSet::choose(uint64_t min_lsn, SteadyClock::time_point now) {
  std::lock_guard lk(mu_);
  int candidates[64];
  int count = 0, total_weight = 0;
  for (size_t i = 0; i < nodes_.size() && count < 64; ++i) {
    if (!fit(nodes_[i], endpoints_[i].weight, min_lsn, now)) continue;
    candidates[count++] = int(i);
    total_weight += endpoints_[i].weight;
  }
  if (count == 0) return std::nullopt;
  if (count == 1) return candidates[0];
  switch (options_.balance) {
    case Balance::RoundRobin: {
      // Weighted: each replica takes `weight` consecutive slots of the cycle.
      int slot = int(rr_next_++ % uint64_t(total_weight));
      for (int k = 0; k < count; ++k) {
        slot -= endpoints_[size_t(candidates[k])].weight;
        if (slot < 0) return candidates[k];
      }
      return candidates[count - 1];
    }
    case Balance::Random: {
      rand_state_ ^= rand_state_ << 13;
      rand_state_ ^= rand_state_ >> 7;
      rand_state_ ^= rand_state_ << 17;
      int slot = int(rand_state_ % uint64_t(total_weight));
      for (int k = 0; k < count; ++k) {
        slot -= endpoints_[size_t(candidates[k])].weight;
        if (slot < 0) return candidates[k];
      }
      return candidates[count - 1];
    }
    case Balance::LeastConnections: {
      // Fewest servers in use per unit of weight; ties rotate so equal replicas share the load.
      int best = -1;
      const size_t start = size_t(rr_next_++ % uint64_t(count));
      for (int k = 0; k < count; ++k) {
        int c = candidates[(start + size_t(k)) % size_t(count)];
        if (best < 0 || int64_t(nodes_[size_t(c)].in_use) * endpoints_[size_t(best)].weight <
                            int64_t(nodes_[size_t(best)].in_use) * endpoints_[size_t(c)].weight)
          best = c;
      }
      return best;
    }
  }
  return candidates[0];
}

void ReplicaSet::acquired(int i) {
  std::lock_guard lk(mu_);
  ++nodes_[size_t(i)].in_use;
}

void ReplicaSet::released(int i) {
  std::lock_guard lk(mu_);
  if (nodes_[size_t(i)].in_use > 0) --nodes_[size_t(i)].in_use;
}

bool ReplicaSet::ban(int i, SteadyClock::time_point now) {
  std::lock_guard lk(mu_);
  Node& n = nodes_[size_t(i)];
  const bool was = now < n.banned_until;
  n.banned_until = now + options_.ban_time;
  n.known = false;
  return !was;
}

bool ReplicaSet::banned(int i, SteadyClock::time_point now) const {
  std::lock_guard lk(mu_);
  return now < nodes_[size_t(i)].banned_until;
}

bool ReplicaSet::due(int i, SteadyClock::time_point now) const { return !banned(i, now); }

std::optional<uint64_t> ReplicaSet::stamp_after(uint64_t commit_round) const {
  std::lock_guard lk(mu_);
  if (completed_round_ <= commit_round) return std::nullopt;
  return completed_lsn_;
}

uint64_t ReplicaSet::begin_round() { return round_.fetch_add(1, std::memory_order_acq_rel) + 1; }

void ReplicaSet::primary_position(uint64_t round, uint64_t lsn, SteadyClock::time_point now) {
  lsn = insert_position_as_record_end(lsn);
  std::lock_guard lk(mu_);
  if (round > completed_round_) {
    completed_round_ = round;
    completed_lsn_ = std::max(completed_lsn_, lsn);
  }
  if (!samples_.empty() && lsn <= samples_.back().lsn) {
    samples_.back().seen = now;  // the primary still stands here (or a stale read): extend
    return;
  }
  samples_.push_back({lsn, now});
  if (samples_.size() > kMaxSamples) samples_.pop_front();
}

void ReplicaSet::replica_position(int i, bool in_recovery, uint64_t lsn, SteadyClock::time_point now) {
  std::lock_guard lk(mu_);
  Node& n = nodes_[size_t(i)];
  n.known = true;
  n.promoted = !in_recovery;
  n.replay_lsn = lsn;
  n.polled_at = now;
}

ReplicaSet::Status ReplicaSet::status(int i, SteadyClock::time_point now) const {
  std::lock_guard lk(mu_);
  const Node& n = nodes_[size_t(i)];
  Status s;
  s.banned = now < n.banned_until;
  s.known = n.known;
  s.promoted = n.promoted;
  s.replay_lsn = n.replay_lsn;
  s.in_use = n.in_use;
  if (n.known) {
    s.lag = lag_of(n, now);
    uint64_t head = samples_.empty() ? 0 : samples_.back().lsn;
    s.lag_bytes = head > n.replay_lsn ? head - n.replay_lsn : 0;
  }
  return s;
}

uint64_t ReplicaSet::primary_lsn() const {
  std::lock_guard lk(mu_);
  return samples_.empty() ? 0 : samples_.back().lsn;
}

}  // namespace pgopt::pooler::routing
