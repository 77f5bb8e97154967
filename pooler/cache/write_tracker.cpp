// WriteTracker: per-request write sets moved into the open transaction or invalidated as the
// server's tags and ReadyForQuery statuses say (rules in write_tracker.hpp).
#include "pooler/cache/write_tracker.hpp"

#include <algorithm>

namespace pgopt::pooler::cache {

void WriteTracker::Writes::add(std::span<const std::string> t, bool a) {
  all = all || a;
  if (all) {
    tables.clear();  // everything covers every name
    return;
  }
  for (const std::string& name : t)
    if (std::find(tables.begin(), tables.end(), name) == tables.end()) tables.push_back(name);
}

Invalidation WriteTracker::to_invalidation(const Writes& w) {
  Invalidation inv;
  inv.all = w.all;
  if (!w.all) {
    inv.tables = w.tables;
    std::sort(inv.tables.begin(), inv.tables.end());
  }
  return inv;
}

// A reply belongs to the oldest request not yet answered; with none ended, to the one being sent
// (the extended protocol answers an Execute before its Sync arrives).
WriteTracker::Writes& WriteTracker::front() { return requests_.empty() ? open_ : requests_.front(); }

void WriteTracker::on_writes(std::span<const std::string> tables, bool all) { open_.add(tables, all); }

void WriteTracker::end_request() {
  requests_.push_back(std::move(open_));
  open_ = Writes{};
}

Invalidation WriteTracker::on_command_complete(std::string_view tag) {
  if (tag != "COMMIT") return {};
  Writes committed = std::move(transaction_);
  transaction_ = Writes{};
  // The front request's writes stay: its ReadyForQuery decides their fate too (a later statement of
  // the same request may have written after this COMMIT).
  committed.add(front());
  return to_invalidation(committed);
}

Invalidation WriteTracker::on_ready_for_query(char status) {
  Writes done;
  if (!requests_.empty()) {
    done = std::move(requests_.front());
    requests_.pop_front();
  } else {
    done = std::move(open_);  // a ReadyForQuery before end_request(): take what was sent
    open_ = Writes{};
  }
  if (status == 'T' || status == 'E') {
    transaction_.add(done);
    return {};
  }
  transaction_ = Writes{};  // the block ended without a COMMIT tag: rolled back or prepared
  return to_invalidation(done);
}

Invalidation WriteTracker::on_server_lost() {
  Writes all = std::move(transaction_);
  for (const Writes& r : requests_) all.add(r);
  all.add(open_);
  transaction_ = open_ = Writes{};
  requests_.clear();
  return to_invalidation(all);
}

bool WriteTracker::pending() const {
  if (!open_.empty() || !transaction_.empty()) return true;
  return std::any_of(requests_.begin(), requests_.end(), [](const Writes& w) { return !w.empty(); });
}

}  // namespace pgopt::pooler::cache
