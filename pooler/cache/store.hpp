// The result cache's entries: the reply bytes of a cacheable statement by Key, shared by every
// worker; LRU under a memory cap, TTL, per-rule counters, and invalidation by table.
//
// Rules the store keeps (docs/result-cache.md):
// - A fill is two steps: begin_fill() before the statement goes to the server, put() with its
//   reply. put() refuses the reply when any table it read (or everything) was invalidated in
//   between, so a query that ran before a write committed can never store its pre-write answer
//   after the write's invalidation.
// - invalidate() removes the entries that read a table, in O(entries of that table), and stamps
//   the table so late fills are refused; it returns the sequence number a client's own commit is
//   recorded with (ClientCommits).
// - Tables are indexed by table_key() (the relation name without schema): see table_name.hpp.
// - An entry is served only before its expiry; expired entries are dropped when met.
// - A database whose writes are followed by logical decoding (watch_stream) has a gate: its entries
//   are served only while its change stream is up, and only if their fill began after the stream
//   last came up (stream_up's sequence number). Changes made while the stream was down were never
//   seen, so nothing filled before the gap may be served after it; fills are refused meanwhile.
// - Memory: each entry counts its reply, key and table names plus a fixed overhead; the least
//   recently used entries go first when a put would pass max_memory. A reply over max_entry_size is
//   not kept.
//
// Locking: one mutex for the whole store. Every operation, a lookup included, changes shared state
// (LRU order, counters), so a reader-writer lock would buy nothing; each critical section is a few
// hash-map and list-pointer operations, and reply bytes are never copied under the lock (a hit
// hands out a shared_ptr to immutable bytes; a put moves them in). Sharding by key hash is the
// next step if a profile ever shows this mutex; it would complicate invalidation by table, which
// would have to visit every shard.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "pooler/cache/client_commits.hpp"
#include "pooler/cache/key.hpp"

namespace pgopt::pooler::cache {

using Clock = std::chrono::steady_clock;

struct StoreLimits {
  uint64_t max_memory = 64ull * 1024 * 1024;
  uint64_t max_entry_size = 1024 * 1024;
};

// Per rule (the index the caller gives; Rules hands them out). `entries` and `bytes` are current
// values, the others count since start (or clear()).
struct RuleCounters {
  uint64_t entries = 0;
  uint64_t bytes = 0;
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t evictions = 0;      // LRU, to make room
  uint64_t expirations = 0;    // met after their TTL
  uint64_t invalidations = 0;  // removed by a write to a table they read
  uint64_t refused = 0;        // put() refused: too large, or invalidated during the fill
};

// Taken before the statement is sent; put() checks nothing it read was invalidated since.
struct FillTicket {
  uint64_t seq = 0;
};

enum class PutResult { Stored, Replaced, TooLarge, Invalidated, BadRule };

// A watched database's change stream, as the gate sees it.
enum class StreamState : uint8_t { Down, Up };

struct Hit {
  std::shared_ptr<const std::string> reply;  // RowDescription .. CommandComplete, as the server sent
  uint64_t filled_seq = 0;
};

class Store {
 public:
  Store(StoreLimits limits, size_t rule_count);
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  FillTicket begin_fill() const;

  // `tables`: what the statement reads, as sql::cacheability() lists them. `rule`: < rule_count.
  PutResult put(const Key& key, std::span<const std::string> tables, std::string reply, Clock::time_point expires,
                size_t rule, FillTicket ticket);

  // A hit, or nullptr (counted as a miss of `rule`): absent, expired, or filled before a commit of
  // `client`'s own to one of its tables (when `client` is given).
  Hit lookup(const Key& key, size_t rule, Clock::time_point now, const ClientCommits* client = nullptr);

  // Removes the entries that read any of `tables` (or every entry, `all`) and refuses fills that
  // began before; returns this invalidation's sequence number (for ClientCommits::note).
  uint64_t invalidate(std::span<const std::string> tables, bool all = false);

  // The gate of logical-decoding invalidation (the change stream of `database`): watched databases
  // start Down. stream_up() returns the sequence number fills must have begun at (or after) to be
  // served; stream_down() stops every hit and fill of the database until the next stream_up().
  void watch_stream(const std::string& database);
  uint64_t stream_up(std::string_view database);
  void stream_down(std::string_view database);
  // Down for an unwatched database too (no stream); callers ask stream_watched() first.
  StreamState stream_state(std::string_view database) const;
  bool stream_watched(std::string_view database) const;

  void clear();                 // every entry (admin CACHE CLEAR); counters other than current kept
  void clear_rule(size_t rule);  // the entries of one rule (CACHE CLEAR rule)

  std::vector<RuleCounters> counters() const;
  uint64_t bytes() const;
  size_t size() const;
  StoreLimits limits() const { return limits_; }

  // What one entry is charged beyond its reply, key and table names: list node, hash nodes, the
  // shared reply's control block. An estimate; it only has to keep many tiny entries honest.
  static constexpr uint64_t kEntryOverhead = 256;

 private:
  struct Entry {
    Key key;
    std::shared_ptr<const std::string> reply;
    std::vector<std::string> tables;  // table_key() names, unique
    Clock::time_point expires;
    uint64_t filled_seq = 0;
    uint64_t charge = 0;
    size_t rule = 0;
  };
  using List = std::list<Entry>;
  struct KeyRef {
    const Key* key;
    bool operator==(const KeyRef& o) const { return *key == *o.key; }
  };
  struct KeyRefHash {
    size_t operator()(const KeyRef& k) const { return k.key->hash(); }
  };
  enum class Why { Evicted, Expired, Invalidated, Cleared, Replaced };

  struct Gate {
    StreamState state = StreamState::Down;
    uint64_t up_since = 0;  // the seq of the last stream_up()
  };
  // With mu_ held: may an entry of `database` filled at `filled_seq` be served or stored?
  bool gate_allows(std::string_view database, uint64_t filled_seq) const;
  void remove(List::iterator it, Why why);  // with mu_ held
  bool invalidated_since(std::span<const std::string> tables, uint64_t seq) const;

  const StoreLimits limits_;
  mutable std::mutex mu_;
  List lru_;  // most recently used first
  std::unordered_map<KeyRef, List::iterator, KeyRefHash> by_key_;
  std::unordered_map<std::string, std::unordered_set<Entry*>> by_table_;
  // Last invalidation per table_key(), and of everything: what put() checks a ticket against.
  // Grows with the number of distinct tables ever written, which a schema bounds.
  std::unordered_map<std::string, uint64_t> invalidated_at_;
  uint64_t all_invalidated_at_ = 0;
  std::map<std::string, Gate, std::less<>> gates_;  // watched databases; empty: no check at all
  uint64_t seq_ = 0;
  uint64_t bytes_ = 0;
  std::vector<RuleCounters> counters_;
};

}  // namespace pgopt::pooler::cache
