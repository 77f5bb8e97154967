// Which tables a client's transaction wrote, and when those writes commit: the moment the result
// cache must drop the entries that read them. Socket-free and per client session (not
// thread-safe), fed by the relay as statements go to the server and replies come back.
//
// Rules (docs/result-cache.md):
// - Writes are gathered per request: the statements forwarded (on_writes) until the Query or Sync
//   that ends the request (end_request). Replies come back in request order; the front request is
//   the oldest one whose ReadyForQuery has not arrived.
// - CommandComplete "COMMIT" (COMMIT, END, COMMIT AND CHAIN; PostgreSQL answers "ROLLBACK" to the
//   COMMIT of a failed transaction): the transaction's writes and the front request's are
//   invalidated now, before the client hears its commit succeeded.
// - ReadyForQuery 'I': the front request's writes are invalidated (outside a block each statement
//   committed on its own; inside one that ended in this request they are over-invalidated, which is
//   harmless); the block's earlier writes are discarded: had it committed, the COMMIT above
//   already invalidated them, so it rolled back (ROLLBACK, a failed COMMIT, PREPARE TRANSACTION,
//   whose COMMIT PREPARED invalidates everything).
// - ReadyForQuery 'T' or 'E': the front request's writes join the open transaction's.
// - ROLLBACK TO SAVEPOINT discards nothing (its tag is "ROLLBACK" too, and the writes before the
//   savepoint still count): an extra invalidation at commit, never a missing one.
// - on_server_lost(): the outcome of anything in flight is unknown (a COMMIT may have committed):
//   everything pending is invalidated and the tracker starts over.
// Whenever unsure it invalidates more, never less; an invalidation returned must be applied
// (Store::invalidate) before the message that triggered it is forwarded to the client.
#pragma once

#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pgopt::pooler::cache {

struct Invalidation {
  std::vector<std::string> tables;  // sorted, unique
  bool all = false;
  bool empty() const { return !all && tables.empty(); }
};

class WriteTracker {
 public:
  // A statement about to go to the server writes `tables`, or anything (`all`): what
  // sql::written_tables() says of it.
  void on_writes(std::span<const std::string> tables, bool all);
  // The relay forwarded a Query or a Sync: the statements since the last one form a request whose
  // ReadyForQuery is the next unclaimed one.
  void end_request();

  Invalidation on_command_complete(std::string_view tag);
  Invalidation on_ready_for_query(char status);
  Invalidation on_server_lost();

  // Writes seen and not yet committed or discarded (for tests and SHOW-style introspection).
  bool pending() const;

 private:
  struct Writes {
    std::vector<std::string> tables;
    bool all = false;
    void add(std::span<const std::string> t, bool a);
    void add(const Writes& w) { add(w.tables, w.all); }
    bool empty() const { return !all && tables.empty(); }
  };
  static Invalidation to_invalidation(const Writes& w);
  Writes& front();

  Writes open_;                // statements forwarded, request not ended yet
  std::deque<Writes> requests_;  // ended requests awaiting their ReadyForQuery, oldest first
  Writes transaction_;         // earlier requests of the open transaction block
};

}  // namespace pgopt::pooler::cache
