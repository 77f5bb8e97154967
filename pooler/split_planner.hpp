// Read/write splitting's state and decisions for one client, socket-free: which replica set and
// config the router reads, read-your-writes, SET pgopt.route, the bare BEGIN held back, and the
// retry of a batch whose server broke before answering. The relay (client_split.cpp) does the I/O.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pooler/config/config.hpp"
#include "pooler/guc_state.hpp"
#include "pooler/routing/replica_set.hpp"
#include "pooler/routing/router.hpp"

namespace pgopt::pooler {

class Pool;

// What splitting remembers for a client across parking (the session keeps it, a few bytes; the
// rest of SplitPlanner is made again at each wake-up).
struct SplitMemory {
  // Read-your-writes (read_your_writes): Off, or On with no commit to wait for, or a commit on the
  // primary that reads must see: until a poll round after it stamps the LSN, reads go to the primary.
  enum class Ryw : uint8_t { Off, On, AwaitingStamp };
  uint64_t ryw_round = 0;  // the poll round the last commit was seen in (AwaitingStamp)
  uint64_t ryw_lsn = 0;    // reads need a replica replayed at least this far
  Ryw ryw = Ryw::On;
  bool wrote = false;  // the primary ran something that may write since the last commit
  // A bare BEGIN answered by the pooler: the transaction's first statement picks its server (SET
  // TRANSACTION READ ONLY there makes it a replica's), and the BEGIN is sent ahead of it.
  bool begin_pending = false;
  // A group the pooler refused (a routing error, no replica): the rest of it is dropped up to its
  // Sync, as a server skips an extended-protocol group after an error.
  bool skip_to_sync = false;
  routing::Route route = routing::Route::Auto;  // SET pgopt.route
};

// A batch that may run again (a read sent to a replica, a bare BEGIN), kept until a reply reaches
// the client, so that a connection that breaks first can be retried elsewhere; a failover may leave
// more than one dead connection in the pool (each found by one retry).
class BatchRetry {
 public:
  static constexpr size_t kMaxBytes = 64 * 1024;
  static constexpr int kMaxRetries = 3;
  // Armed: the batch may still run elsewhere (nothing of its server's reply reached the client).
  enum class State : uint8_t { Off, Armed };

  // What arm() judges a batch just sent by: on a fresh server (`fresh`) a replica's read or a bare
  // BEGIN outside a transaction; on a replica still attached from a completed batch, a new read.
  struct Facts {
    size_t bytes = 0;
    bool fresh = false, on_replica = false, want_replica = false;
    bool idle = false;        // no transaction open, no BEGIN held back
    bool busy = false;        // the server still owes replies
    bool bare_begins = false;  // every message is a bare BEGIN Query
  };
  static bool eligible(const Facts& f);
  // Keeps a copy of `batch` when eligible; otherwise disarmed (a fresh server's old batch is gone).
  void arm(std::span<const uint8_t> batch, const Facts& f);
  void disarm() { state_ = State::Off; }
  // Some reply reached the client: running the batch again would show it twice.
  void result_forwarded() { state_ = State::Off; }
  bool armed() const { return state_ == State::Armed; }
  // A retry starts: the batch to run again; disarmed until rearm() (once it is on its new server),
  // which arms it again while retries are left.
  std::string take_for_retry();
  void rearm() { state_ = batch_.empty() ? State::Off : State::Armed; }
  // retry_elsewhere() is moving the batch to a new server: the client's next messages wait.
  bool moving() const { return moving_; }
  void set_moving(bool m) { moving_ = m; }

 private:
  std::string batch_;  // at most kMaxBytes
  int retries_ = 0;    // of batch_
  State state_ = State::Off;
  bool moving_ = false;
};

// The live part, in an awake session only: made at each wake-up, looked up again from the config.
class SplitPlanner {
 public:
  explicit SplitPlanner(SplitMemory& memory) : memory_(memory) {}

  // The database's splitting as of `cfg`: `set` is its replica set, or null when it does not split
  // (session mode, no replicas, read_write_split off). False: nothing changed (same config).
  bool refresh(const std::shared_ptr<const Config>& cfg, const DatabaseConfig* db,
               std::shared_ptr<routing::ReplicaSet> set);
  bool active() const { return set_ != nullptr; }
  const std::shared_ptr<routing::ReplicaSet>& replicas() const { return set_; }
  const std::shared_ptr<const Config>& config() const { return cfg_; }
  const DatabaseConfig& database() const { return *db_; }
  // The pool of replica `index`, cached once looked up (by the session, which knows the registry).
  Pool*& replica_pool(int index) { return replica_pools_[size_t(index)]; }

  // What the router needs of the client: its defaults (looked up again only when its settings
  // changed), route and held-back BEGIN.
  routing::ClientState routing_state(const GucState& want, bool in_transaction);

  struct ReplicaChoice {
    std::optional<int> index;
    bool ryw_blocked = false;  // replicas are fit, just not caught up with this client's last write
  };
  ReplicaChoice choose_replica(routing::SteadyClock::time_point now);
  // A transaction ended on the primary (`on_primary`) or a replica: one that wrote on the primary
  // stamps read-your-writes with the current poll round.
  void transaction_ended(bool on_primary);

  SplitMemory& memory() { return memory_; }
  BatchRetry& retry() { return retry_; }
  const BatchRetry& retry() const { return retry_; }

 private:
  struct RoutingGucs {
    GucState::Handle handle;  // of the client's settings when these were read
    bool read_only = false, serializable = false;
  };
  SplitMemory& memory_;
  std::shared_ptr<routing::ReplicaSet> set_;
  std::shared_ptr<const Config> cfg_;  // the config set_ and the router come from
  const DatabaseConfig* db_ = nullptr;  // in cfg_, while set_ is
  std::vector<Pool*> replica_pools_;    // by replica index, filled on first use
  RoutingGucs routing_gucs_;
  BatchRetry retry_;
};

}  // namespace pgopt::pooler
