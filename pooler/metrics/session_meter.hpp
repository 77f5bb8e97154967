// What one client session adds to its database's statistics: bytes, wait time, and the start and
// end of its queries and transactions as the relay sees them. Socket-free; one session, one thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pooler/metrics/stats.hpp"

namespace pgopt::pooler::metrics {

// A query is what the server answers with one ReadyForQuery: a simple Query, an extended-protocol
// group up to its Sync, a FunctionCall. Its time runs from when it is sent (or, pipelined behind
// another, from that one's ReadyForQuery) to its own ReadyForQuery, so pipelined queries add up to
// the time the server was busy. A transaction runs from the first query sent outside one to the
// ReadyForQuery 'I' that ends it; an autocommit statement is a transaction of one query.
class SessionMeter {
 public:
  using Clock = std::chrono::steady_clock;

  // Until bound (login, the admin console) nothing is counted.
  void bind(DbCounters* c) { c_ = c; }
  bool bound() const { return c_ != nullptr; }

  void received(size_t bytes) {
    if (c_) c_->received.add(bytes);
  }
  void sent(size_t bytes) {
    if (c_) c_->sent.add(bytes);
  }
  // The client receives an error with `sqlstate` (five characters).
  void error(ErrorSource src, std::string_view sqlstate) {
    if (c_) c_->errors.add(src, sqlstate);
  }
  // The client enters or leaves the Waiting state (queued for a server). The clock is read only
  // on a change: this is called at every state change.
  void waiting(bool now_waiting) {
    if (c_ && now_waiting != waiting_) waiting_at(now_waiting, Clock::now());
  }
  // A batch of client messages goes to the server; `fresh`: the server was just attached, so
  // nothing is outstanding on it and no transaction is open.
  void to_server(bool fresh) {
    if (c_ && (fresh || !in_query_ || !in_xact_)) to_server_at(fresh, Clock::now());
  }
  // A ReadyForQuery with `status` came back; `more`: other queries are still outstanding.
  // `split`: the database splits reads and writes, so the query is counted by where it ran.
  void ready(char status, bool more, bool split, bool replica) {
    if (c_ && in_query_) ready_at(status, more, split, replica, Clock::now());
  }

  // The same at a given time (tests drive the clock).
  void waiting_at(bool now_waiting, Clock::time_point now);
  void to_server_at(bool fresh, Clock::time_point now);
  void ready_at(char status, bool more, bool split, bool replica, Clock::time_point now);

 private:
  static uint64_t micros(Clock::duration d) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
    return us > 0 ? uint64_t(us) : 0;
  }
  DbCounters* c_ = nullptr;
  Clock::time_point wait_since_{}, query_since_{}, xact_since_{};
  bool waiting_ = false, in_query_ = false, in_xact_ = false;
};

inline void SessionMeter::waiting_at(bool now_waiting, Clock::time_point now) {
  if (!c_ || now_waiting == waiting_) return;
  waiting_ = now_waiting;
  if (now_waiting)
    wait_since_ = now;
  else
    c_->wait_time_us.add(micros(now - wait_since_));
}

inline void SessionMeter::to_server_at(bool fresh, Clock::time_point now) {
  if (!c_) return;
  if (fresh) in_query_ = in_xact_ = false;  // whatever a lost server left unanswered is forgotten
  if (!in_query_) {
    in_query_ = true;
    query_since_ = now;
  }
  if (!in_xact_) {
    in_xact_ = true;
    xact_since_ = now;
  }
}

inline void SessionMeter::ready_at(char status, bool more, bool split, bool replica, Clock::time_point now) {
  if (!c_ || !in_query_) return;
  const uint64_t q = micros(now - query_since_);
  c_->query_count.add(1);
  c_->query_time_us.add(q);
  c_->query.record(q);
  if (split) (replica ? c_->routed_replica : c_->routed_primary).add(1);
  if (more)
    query_since_ = now;
  else
    in_query_ = false;
  if (status == 'I') {
    const uint64_t x = micros(now - xact_since_);
    c_->xact_count.add(1);
    c_->xact_time_us.add(x);
    c_->xact.record(x);
    // Pipelined statements behind this one start the next transaction now.
    in_xact_ = more;
    xact_since_ = now;
  }
}

}  // namespace pgopt::pooler::metrics
