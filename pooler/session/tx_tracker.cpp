// Requests owed, transaction status and a transaction's end (see tx_tracker.hpp for the rules).
#include "pooler/session/tx_tracker.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <utility>

#include "pooler/session/invariant.hpp"

namespace pgopt::pooler::session {

namespace fe = protocol::frontend;

void TxTracker::start() {
  outstanding_ = unsynced_ = hidden_ = 0;
  status_ = TxStatus::Idle;
  answer_ = Answer::Awaited;
  failed_ = false;
  copy_syncs_.reset();
}

bool TxTracker::defers_setting(std::string_view name) const {
  if (discard_all_) return true;
  for (const auto& g : deferred_) {
    if (g.kind == sql::GucChange::Kind::ResetAll) return true;
    if (g.name.size() == name.size() &&
        std::equal(name.begin(), name.end(), g.name.begin(),
                   [](char a, char b) { return std::tolower(uint8_t(a)) == std::tolower(uint8_t(b)); }))
      return true;
  }
  return false;
}

void TxTracker::forget_requests() {
  outstanding_ = unsynced_ = hidden_ = 0;
  copy_syncs_.reset();
}

bool TxTracker::on_client(char type) {
  switch (type) {
    case fe::kQuery:
    case fe::kFunctionCall:
      copy_syncs_.on_client(type);
      ++outstanding_;
      return true;
    case fe::kSync: {
      const bool answered = copy_syncs_.on_client(type);
      if (answered) ++outstanding_;
      unsynced_ = 0;
      return answered;
    }
    case fe::kParse:
    case fe::kBind:
    case fe::kDescribe:
    case fe::kExecute:
    case fe::kClose:
    case fe::kFlush:
      ++unsynced_;
      return true;
    case fe::kCopyDone:
    case fe::kCopyFail:
      copy_syncs_.on_client(type);
      return true;
    default:  // CopyData: part of the Query or Execute already counted
      return true;
  }
}

void TxTracker::send_hidden_begin() {
  ++outstanding_;
  ++hidden_;
}

TxTracker::Ready TxTracker::on_ready(TxStatus status) {
  if (hidden_ > 0) {
    --hidden_;  // a hidden BEGIN's: it was never in copy_syncs_
  } else {
    copy_syncs_.on_ready();
  }
  // A ReadyForQuery nobody waits for is the prepared-statement tracker's to report (Desync); here
  // it must not make the count negative and keep the server forever.
  if (outstanding_ > 0) --outstanding_;
  PGOPT_ASSERT(hidden_ <= outstanding_);
  status_ = status;
  Ready r;
  if (status != TxStatus::Idle) return r;
  r.end = failed_ ? End::Failed : End::Committed;
  hold_cursors_.on_transaction_end(r.end == End::Committed);
  r.settings = std::move(deferred_);
  deferred_.clear();
  r.discard_all = std::exchange(discard_all_, false);
  failed_ = false;
  return r;
}

int TxTracker::on_copy_in() {
  const int ignored = copy_syncs_.on_copy_in();
  outstanding_ -= ignored;
  PGOPT_ASSERT(outstanding_ >= 0);
  return ignored;
}

void TxTracker::on_command_complete(std::span<const uint8_t> tag) {
  if (tag.size() >= 8 && std::memcmp(tag.data(), "ROLLBACK", 8) == 0) failed_ = true;
}

}  // namespace pgopt::pooler::session
