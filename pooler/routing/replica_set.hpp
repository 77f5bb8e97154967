// A database's replicas as the router's caller sees them: health, replay positions, lag, and the
// choice of one for a read (load balancing, lag limit, read-your-writes).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgopt::pooler::routing {

using SteadyClock = std::chrono::steady_clock;

// A WAL position ("16/B374D848" in PostgreSQL's text form) as one number.
std::optional<uint64_t> parse_lsn(std::string_view text);
std::string format_lsn(uint64_t lsn);
// The primary's insert position (pg_current_wal_insert_lsn()) as a replica's replay position can
// equal it: just after a page header the insert position counts the header, while a replayed
// record's end stops at the page boundary. Without this an idle primary whose last record ended on
// a boundary would look forever ahead of every replica.
uint64_t insert_position_as_record_end(uint64_t lsn);

enum class Balance { RoundRobin, LeastConnections, Random };

struct ReplicaSetOptions {
  Balance balance = Balance::LeastConnections;
  // max_replica_lag: at most one of these is non-zero; both zero means no limit.
  std::chrono::milliseconds max_lag_time{1000};
  uint64_t max_lag_bytes = 0;
  std::chrono::milliseconds ban_time{30'000};
  // Replay positions older than this are not trusted: the replica gets no reads until a poll
  // succeeds again (the poller itself may be stuck on it).
  std::chrono::milliseconds stale_after{2000};
};

struct ReplicaEndpoint {
  std::string host;
  int port = 5432;
  int weight = 1;  // 0: no reads
  bool operator==(const ReplicaEndpoint&) const = default;
};

// Thread-safe: workers choose and ban, the poller records positions. Every method that depends on
// time takes `now`, so tests drive the clock.
//
// How lag and read-your-writes are judged without a query per read: a poller reads the primary's
// WAL position and then each replica's replay position every lag_poll_interval. The primary's
// positions are kept with the times they were seen; a replica that has replayed position R is
// behind by (now - the last time the primary was seen at or below R). Each poll round has a number;
// a client whose write committed during round N is stamped with the primary position read by a
// later round (read after its commit, so at or past it), and reads only from replicas replayed past
// the stamp. Until such a round completes its reads go to the primary.
class ReplicaSet {
 public:
  ReplicaSet(std::vector<ReplicaEndpoint> replicas, ReplicaSetOptions options);

  const std::vector<ReplicaEndpoint>& endpoints() const { return endpoints_; }
  // A reload replaced this set (the replica list changed): its poller stops.
  void retire() { retired_.store(true, std::memory_order_release); }
  bool retired() const { return retired_.load(std::memory_order_acquire); }
  size_t size() const { return endpoints_.size(); }
  void set_options(const ReplicaSetOptions& o);
  ReplicaSetOptions options() const;

  // ---- choosing (workers) ----
  // A replica fit for a read: not banned, weight > 0, a fresh replay position within the lag limit,
  // and replayed at least to `min_lsn` (0: no read-your-writes constraint). nullopt: none is fit.
  std::optional<int> choose(uint64_t min_lsn, SteadyClock::time_point now);
  // A server of replica `i` is in use / back (least_connections counts these).
  void acquired(int i);
  void released(int i);
  // The replica failed (connect or connection broken): no reads for ban_time, and its positions are
  // forgotten until a poll succeeds after the ban. Returns false if it was already banned.
  bool ban(int i, SteadyClock::time_point now);
  bool banned(int i, SteadyClock::time_point now) const;

  // ---- read-your-writes ----
  // The poll round a commit happens in (call when the commit is seen).
  uint64_t current_round() const { return round_.load(std::memory_order_acquire); }
  // The primary position read by a round that started after `commit_round`; nullopt until one has.
  std::optional<uint64_t> stamp_after(uint64_t commit_round) const;

  // ---- polling (the poller only) ----
  uint64_t begin_round();  // returns the new round's number
  // `lsn`: the primary's WAL insert position, read after the round began. The insert position, not
  // the write position: with synchronous_commit off a commit returns before its record is written,
  // and a stamp behind the commit would let a read miss it.
  void primary_position(uint64_t round, uint64_t lsn, SteadyClock::time_point now);
  // A replica answered: in recovery (else it was promoted and gets no reads) at replay position `lsn`.
  void replica_position(int i, bool in_recovery, uint64_t lsn, SteadyClock::time_point now);
  // Whether the poller should contact replica `i` now (not banned, or its ban is over).
  bool due(int i, SteadyClock::time_point now) const;

  // ---- reporting (logs, admin, tests) ----
  struct Status {
    bool banned = false, known = false, promoted = false;
    uint64_t replay_lsn = 0;
    std::chrono::milliseconds lag{0};
    uint64_t lag_bytes = 0;
    int in_use = 0;
  };
  Status status(int i, SteadyClock::time_point now) const;
  uint64_t primary_lsn() const;

 private:
  struct Node {
    SteadyClock::time_point banned_until{};
    SteadyClock::time_point polled_at{};  // last successful poll
    bool known = false;
    bool promoted = false;
    uint64_t replay_lsn = 0;
    int in_use = 0;
  };
  // Caller holds mu_.
  std::chrono::milliseconds lag_of(const Node& n, SteadyClock::time_point now) const;
  bool fit(const Node& n, int weight, uint64_t min_lsn, SteadyClock::time_point now) const;

  const std::vector<ReplicaEndpoint> endpoints_;
  mutable std::mutex mu_;
  ReplicaSetOptions options_;
  std::vector<Node> nodes_;
  // The primary's positions, each with the last time it was seen at that position; oldest first,
  // bounded (a replica behind the oldest is at least that far behind).
  struct Sample {
    uint64_t lsn;
    SteadyClock::time_point seen;
  };
  std::deque<Sample> samples_;
  static constexpr size_t kMaxSamples = 4096;
  uint64_t completed_round_ = 0;  // the newest round whose primary position is known
  uint64_t completed_lsn_ = 0;
  std::atomic<uint64_t> round_{0};
  std::atomic<bool> retired_{false};
  uint64_t rr_next_ = 0;     // round robin
  uint64_t rand_state_ = 0;  // random: a tiny xorshift, seeded per set
};

}  // namespace pgopt::pooler::routing
