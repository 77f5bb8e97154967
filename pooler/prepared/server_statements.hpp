// The statements one server connection has prepared, least recently used first out, and whether
// each was prepared before the database's schema last changed.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pooler/prepared/statement_registry.hpp"

namespace pgopt::pooler::prepared {

// Used by one client at a time (the one the server is attached to), so no locking. Mirrors what the
// server really has only if every change the pooler makes on the server goes through here in the
// order it is sent; a reset (DISCARD ALL) must clear() it.
//
// Schema changes (why a shared statement can go stale inside a transaction block): PostgreSQL fixes
// a prepared statement's parameter types when it is prepared. After the type is dropped (DROP TYPE,
// DROP TABLE of a row type, the rollback of the CREATE TYPE that made it) every use fails with XX000
// "cache lookup failed for type", and after ALTER TABLE a changed result type fails with 0A000.
// Outside a transaction block the tracker retries such a group with a fresh statement; inside one
// the error has already aborted the client's transaction, so it must never be sent. Hence every
// server connection of a database shares that database's SchemaEpoch and raises it when it reports:
//   - a CommandComplete tagged DROP ... or ALTER ... (raised at once, and again when the transaction
//     ends, when other servers' new statements first see the change);
//   - the end of a transaction, or a ROLLBACK (also ROLLBACK TO SAVEPOINT), in which it completed
//     a CREATE ... and then failed or rolled back (what was created is gone).
// A statement copy remembers the epoch it was prepared under; outdated(s) tells the caller to Close
// it and prepare it again before use, which costs one Close and Parse per statement and server after
// each change, and nothing while the schema stays put. Not seen, so not covered: DDL run inside
// functions or DO blocks, or by connections that bypass pgopt; for those the tracker's retry and
// retirement on the stale error remain (the error reaches a client inside a transaction block once).
struct SchemaEpoch {
  std::atomic<uint64_t> value{0};
};

class ServerStatements {
 public:
  // True if the server has `s`; marks it used in the current sync group.
  bool has(const Statement& s);
  // True if the server has a copy of `s` prepared before the schema last changed, and it was not
  // used in the current sync group (a portal bound from it may still be open): the copy is
  // forgotten here and the caller must Close it on the server, then prepare it again.
  bool outdated(const Statement& s);
  // Records `s` as prepared. Statements over `capacity` come back in `evicted`, oldest first, for
  // the caller to Close on the server; ones used since the last Sync are never evicted (a portal
  // bound from one would be closed with it), so the set may exceed capacity until the next Sync.
  void add(StatementPtr s, size_t capacity, std::vector<StatementPtr>& evicted);
  // Puts back an outdated copy whose Close never ran (the server still has it, still outdated),
  // over the record of the Parse sent after that Close.
  void restore_outdated(StatementPtr s);
  void remove(uint64_t id);
  // A Parse of `id` that never ran: forgets it, unless an outdated copy was put back meanwhile
  // (replies are abandoned oldest first after an error, newest first when the server dies).
  void forget_added(uint64_t id);
  void clear();
  // A Sync went to the server: statements used before it may now be evicted.
  void next_group() { ++group_; }
  size_t size() const { return by_id_.size(); }

  // The epoch of the database this server connection belongs to (until then nothing is outdated).
  void watch(std::shared_ptr<SchemaEpoch> epoch) { epoch_ = std::move(epoch); }
  bool watching() const { return epoch_ != nullptr; }
  // Every message this server sends, whoever its client (`body` complete for C, E and Z); only
  // CommandComplete, ErrorResponse and ReadyForQuery matter.
  void on_server_message(char type, std::span<const uint8_t> body);
  void on_command_complete(std::string_view tag);
  void on_error() { tx_failed_ = tx_ddl_ != TxDdl::None; }
  void on_ready(char tx_status);

  uint64_t hits = 0, misses = 0, evictions = 0, reprepares = 0;

 private:
  struct Entry {
    StatementPtr stmt;
    uint64_t group;
    uint64_t epoch;  // the schema epoch when it was prepared
    bool restored = false;  // put back by restore_outdated
  };
  uint64_t epoch() const { return epoch_ ? epoch_->value.load(std::memory_order_acquire) : 0; }
  void raise_epoch() {
    if (epoch_) epoch_->value.fetch_add(1, std::memory_order_acq_rel);
  }
  std::list<Entry> lru_;  // front: most recently used
  std::unordered_map<uint64_t, std::list<Entry>::iterator> by_id_;
  uint64_t group_ = 0;
  std::shared_ptr<SchemaEpoch> epoch_;
  // What the server's current transaction did to the schema.
  enum class TxDdl : char { None, Created, Changed };
  TxDdl tx_ddl_ = TxDdl::None;
  bool tx_failed_ = false;  // an error or rollback after it created something
};

}  // namespace pgopt::pooler::prepared
