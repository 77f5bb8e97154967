// A socket-free decoder of a logical replication stream in the `pgoutput` format (protocol
// version 1), as the change stream (pooler/change_stream.cpp) receives it: each CopyData payload
// of START_REPLICATION goes in, what the result cache needs comes out through a listener (as
// Envoy's postgres_proxy decoders report to callbacks): which relation an id names, which tables a
// committed transaction touched and when it committed, and keepalives.
//
// Rules it keeps:
// - Never throws and never reads past a payload: a short or malformed payload returns
//   Status::Malformed and changes nothing (the caller drops the connection: a stream it cannot
//   follow must not be trusted).
// - A transaction's tables are reported only at its Commit; a transaction that rolled back never
//   reaches the stream (pgoutput sends only committed ones), so nothing is reported for it.
// - A change to a relation id no Relation message named (pgoutput always names one first, but a
//   decoder that cannot tell must not guess) makes the transaction touch "everything".
// - Tuple data is walked (to check the message is whole) but never kept: the cache invalidates by
//   table, not by row.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pgopt::pooler::cache {

// Microseconds since 2000-01-01 00:00:00 UTC, as PostgreSQL sends timestamps.
using PgTimestamp = int64_t;
// Seconds between the Unix epoch and PostgreSQL's (2000-01-01).
constexpr int64_t kPgEpochUnixSeconds = 946'684'800;

struct CommittedTransaction {
  uint64_t commit_lsn = 0;  // the commit record's LSN
  uint64_t end_lsn = 0;     // the end of the transaction's WAL: what may be acknowledged as flushed
  PgTimestamp commit_time = 0;
  uint32_t xid = 0;                 // from its Begin
  std::vector<std::string> tables;  // "schema.table" of every relation changed or truncated, unique
  bool all = false;                 // a change to a relation the stream never named
};

class ChangeListener {
 public:
  virtual ~ChangeListener() = default;
  virtual void on_relation(uint32_t /*relation_id*/, std::string_view /*schema*/, std::string_view /*table*/) {}
  virtual void on_commit(const CommittedTransaction& tx) = 0;
  // A primary keepalive: the server's WAL end, its clock, and whether it wants a status update now.
  virtual void on_keepalive(uint64_t wal_end, PgTimestamp server_time, bool reply_requested) = 0;
};

class PgoutputDecoder {
 public:
  enum class Status { Ok, Malformed, Unsupported };

  explicit PgoutputDecoder(ChangeListener& listener) : listener_(listener) {}

  // One CopyData payload (without the 'd' and length). Unsupported: a valid-looking message this
  // decoder does not know (a newer protocol's streaming messages); the caller treats it as
  // malformed, since a change it cannot read may be one it would have to invalidate for.
  Status on_copy_data(std::span<const uint8_t> payload);

  // The highest WAL position seen in an XLogData header (its end) or keepalive.
  uint64_t wal_end() const { return wal_end_; }
  bool in_transaction() const { return in_tx_; }
  // Forget relations and any open transaction: a new connection starts over.
  void reset();

  // Human-readable reason of the last Malformed / Unsupported, for the log.
  const std::string& error() const { return error_; }

 private:
  class Reader;
  Status pgoutput(Reader& r);
  Status change(char kind, Reader& r);
  Status fail(Status s, std::string why);

  ChangeListener& listener_;
  std::unordered_map<uint32_t, std::string> relations_;  // id -> "schema.table"
  bool in_tx_ = false;
  CommittedTransaction tx_;
  std::vector<uint32_t> touched_;  // relation ids of the open transaction
  uint64_t wal_end_ = 0;
  std::string error_;
};

// Builders of the same messages, for tests and the fuzz target's seeds (little to gain from a
// separate file: they are the decoder's mirror).
namespace pgoutput_build {
std::string xlog_data(uint64_t start, uint64_t end, PgTimestamp send_time, std::string_view message);
std::string keepalive(uint64_t wal_end, PgTimestamp time, bool reply);
std::string begin(uint64_t final_lsn, PgTimestamp commit_time, uint32_t xid);
std::string commit(uint64_t commit_lsn, uint64_t end_lsn, PgTimestamp commit_time);
std::string relation(uint32_t id, std::string_view schema, std::string_view table,
                     std::span<const std::string_view> columns);
std::string insert(uint32_t relation, std::span<const std::string_view> values);
std::string update(uint32_t relation, std::span<const std::string_view> old_key, std::span<const std::string_view> values);
std::string remove(uint32_t relation, std::span<const std::string_view> old_key);
std::string truncate(std::span<const uint32_t> relations, uint8_t options);
std::string origin(uint64_t lsn, std::string_view name);
std::string type(uint32_t oid, std::string_view schema, std::string_view name);
// A standby status update (the client's CopyData to the server): written = flushed = applied.
std::string standby_status(uint64_t lsn, PgTimestamp now, bool reply);
}  // namespace pgoutput_build

}  // namespace pgopt::pooler::cache
