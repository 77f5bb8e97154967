// Read/write splitting's per-client state and decisions, socket-free (split_planner.hpp).
#include "pooler/split_planner.hpp"

#include <algorithm>

namespace pgopt::pooler {

bool BatchRetry::eligible(const Facts& f) {
  if (f.bytes > kMaxBytes) return false;
  // A read on a replica, or a bare BEGIN on the primary, is kept until its first reply.
  if (f.fresh) return f.on_replica || (f.idle && f.bare_begins);
  // The replica is still attached because its last reply's release has not run yet (the client
  // was quicker), but that batch is complete: this read is as new as on a fresh server.
  return f.want_replica && f.on_replica && !f.busy && f.idle;
}

void BatchRetry::arm(std::span<const uint8_t> batch, const Facts& f) {
  if (!eligible(f)) {  // a batch after it that could not run again makes the old copy stale too
    state_ = State::Off;
    return;
  }
  batch_.assign(reinterpret_cast<const char*>(batch.data()), batch.size());
  retries_ = 0;
  state_ = State::Armed;
}

std::string BatchRetry::take_for_retry() {
  std::string batch = std::move(batch_);
  batch_.clear();
  state_ = State::Off;
  // Kept for another try: in a failover the pool may hold more dead connections to the old primary.
  if (++retries_ < kMaxRetries) batch_ = batch;
  return batch;
}

bool SplitPlanner::refresh(const std::shared_ptr<const Config>& cfg, const DatabaseConfig* db,
                           std::shared_ptr<routing::ReplicaSet> set) {
  if (cfg == cfg_) return false;
  cfg_ = cfg;
  if (set != set_) replica_pools_.clear();
  set_ = std::move(set);
  db_ = set_ ? db : nullptr;
  if (db_ && db_->read_your_writes) {
    if (memory_.ryw == SplitMemory::Ryw::Off) memory_.ryw = SplitMemory::Ryw::On;
  } else {
    memory_.ryw = SplitMemory::Ryw::Off;  // a commit awaiting its stamp no longer holds reads back
  }
  if (set_) replica_pools_.resize(set_->size(), nullptr);
  return true;
}

routing::ClientState SplitPlanner::routing_state(const GucState& want, bool in_transaction) {
  routing::ClientState cs;
  cs.in_transaction = in_transaction;
  // PostgreSQL 14+ reports default_transaction_read_only; the isolation default is only known
  // from the SET that made it. Looked up again only when the settings changed (a new handle).
  if (!routing_gucs_.handle || !want.is(routing_gucs_.handle)) {
    routing_gucs_ = {want.handle()};
    if (const GucEntry* e = want.find("default_transaction_read_only"); e && !e->replayed)
      routing_gucs_.read_only = e->value == "on";
    if (const GucEntry* e = want.find("default_transaction_isolation"))
      routing_gucs_.serializable = lower(e->value).find("serializable") != std::string::npos;
  }
  cs.default_read_only = routing_gucs_.read_only;
  cs.default_serializable = routing_gucs_.serializable;
  cs.route = memory_.route;
  cs.begin_pending = memory_.begin_pending;
  return cs;
}

SplitPlanner::ReplicaChoice SplitPlanner::choose_replica(routing::SteadyClock::time_point now) {
  ReplicaChoice c;
  uint64_t min_lsn = 0;
  if (memory_.ryw == SplitMemory::Ryw::AwaitingStamp) {
    if (auto stamp = set_->stamp_after(memory_.ryw_round)) {
      memory_.ryw_lsn = std::max(memory_.ryw_lsn, *stamp);
      memory_.ryw = SplitMemory::Ryw::On;
    }
  }
  if (memory_.ryw != SplitMemory::Ryw::Off) min_lsn = memory_.ryw_lsn;
  const bool awaiting = memory_.ryw == SplitMemory::Ryw::AwaitingStamp;
  if (!awaiting) c.index = set_->choose(min_lsn, now);
  if (!c.index && (awaiting || min_lsn > 0)) c.ryw_blocked = set_->choose(0, now).has_value();
  return c;
}

void SplitPlanner::transaction_ended(bool on_primary) {
  if (!memory_.wrote || !on_primary) return;
  // Committed (or ended) on the primary: later reads wait for a replica that has replayed it.
  if (memory_.ryw != SplitMemory::Ryw::Off && set_) {
    memory_.ryw_round = set_->current_round();
    memory_.ryw = SplitMemory::Ryw::AwaitingStamp;
  }
  memory_.wrote = false;
}

}  // namespace pgopt::pooler
