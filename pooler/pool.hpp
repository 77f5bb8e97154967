// Server pools per (database, user): limits, idle connections and waiting clients across all workers.
#pragma once

#include <chrono>
#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "pooler/auth/scram.hpp"
#include "pooler/net.hpp"
#include "pooler/server_conn.hpp"
#include "pooler/session_check.hpp"

namespace pgopt::pooler {

struct PoolLimits {
  int pool_size = 20;
  int max_db_connections = 0;  // 0: no database-wide limit
  // Idle servers younger than this skip the closed-socket check (a syscall per transaction).
  std::chrono::milliseconds check_delay{10};
};

class Pool;

// A connect slot a pool granted (Pool::acquire with no idle server, Pool::reserve_to_min): the pool
// counts it in its limits until the connection it stands for is opened and handed over
// (hand_over(), after which the server itself holds the slot and gives it back through release()
// or discard()). Dropped any other way, by a failed connect, an early return or an exception, it
// frees the slot itself, so no path can leak one or free it twice. Move-only; same thread as its
// user.
class SlotLease {
 public:
  SlotLease() = default;
  explicit SlotLease(Pool* pool) : pool_(pool) {}
  SlotLease(SlotLease&& o) noexcept : pool_(std::exchange(o.pool_, nullptr)) {}
  SlotLease& operator=(SlotLease&& o) noexcept {
    if (this != &o) {
      reset();
      pool_ = std::exchange(o.pool_, nullptr);
    }
    return *this;
  }
  SlotLease(const SlotLease&) = delete;
  SlotLease& operator=(const SlotLease&) = delete;
  ~SlotLease() { reset(); }

  explicit operator bool() const { return pool_ != nullptr; }
  Pool* pool() const { return pool_; }
  // The connection for this slot is open: from now on `s` holds the slot (s.pool is set).
  void hand_over(ServerConn& s);
  // Gives the slot back now (before a wait that should not hold it); nothing when empty.
  void reset();

 private:
  Pool* pool_ = nullptr;
};

// Which of the waiting clients (oldest first; each with `worker` and `since`) gets a server released
// on `worker` at `now`. The oldest waiter on the server's own worker: handing a server across
// threads costs a socket re-registration (epoll_ctl, ioctl, getsockname) and a cross-thread
// wake-up, and under load (200 clients on 20 servers) strict FIFO hops workers on every other
// release. The oldest waiter of all still wins once it has waited more than twice as long as the
// local one (plus 2 ms), so waits on different workers stay within about 2x of each other and
// no worker's clients starve.
template <class It>
It pick_waiter(It first, It last, int worker, Clock::time_point now) {
  if (first == last || (*first)->worker == worker) return first;
  It same = first;
  while (same != last && (*same)->worker != worker) ++same;
  if (same == last) return first;
  return now - (*first)->since < 2 * (now - (*same)->since) + std::chrono::milliseconds(2) ? same : first;
}

// The pools of one database share `max_db_connections`.
class DatabaseGroup {
 public:
  bool try_reserve(int limit);
  void unreserve();
  int open() const;
  void add(Pool* p);
  std::vector<Pool*> pools();

 private:
  mutable std::mutex mu_;
  int open_ = 0;
  std::vector<Pool*> pools_;
};

// Why one mutex per pool and not per-worker pools: the limits are the pool's, whatever thread a
// client runs on (per-thread pools that each take the full limit is a known multi-thread pitfall).
// Idle connections are kept per worker so a client usually gets one already registered with its
// own io_context; otherwise the connection is moved (ServerConn::rebind).
class Pool {
 public:
  Pool(std::string database, std::string user, std::string node, int workers, DatabaseGroup* group);

  const std::string database, user;
  // Which server of the database: empty for the primary, "host:port" for a replica.
  const std::string node;

  struct Acquired {
    ServerPtr server;  // an idle connection, ready
    SlotLease slot;    // no idle one but a slot is reserved: connect, then slot.hand_over()
    bool waited = false;          // it came after a wait in the queue
    std::string error;            // waited past query_wait_timeout, shutting down, or given up
    std::string sqlstate;
  };

 private:
  struct Waiter;

 public:
  // Lets the client that waits in acquire() give up its place at once (its socket closed): set by
  // acquire while the client is queued, empty otherwise. Same thread as the waiting coroutine.
  class WaitTicket {
   public:
    // Called just before the client is queued (not when a server or a slot is free at once).
    std::function<void()> on_queued;
    void give_up();
   private:
    friend class Pool;
    Pool* pool_ = nullptr;
    std::weak_ptr<Waiter> waiter_;
  };
  awaitable<Acquired> acquire(int worker, std::chrono::milliseconds wait_timeout, const PoolLimits& limits,
                              WaitTicket* ticket = nullptr);
  // acquire() when it would not wait: an idle connection or a slot now, else nothing (and nothing
  // changed). Saves the coroutine of acquire() on the common path (issue 16).
  std::optional<Acquired> try_acquire(int worker, const asio::any_io_executor& exec, const PoolLimits& limits);
  // An idle connection, ready, or null (no slot is reserved either way).
  ServerPtr try_take_idle(int worker, const asio::any_io_executor& exec, const PoolLimits& limits);
  // Back to the pool (or straight to the longest-waiting client).
  void release(ServerPtr s);
  // Reserves connect slots to bring the pool up to `min` within its limits. The caller opens a
  // connection for each and hands it over (a lease dropped unused frees its slot).
  std::vector<SlotLease> reserve_to_min(int min, const PoolLimits& limits);
  void discard(const ServerPtr& s);

  // Idle connections on `worker` past server_idle_timeout or server_lifetime, keeping min_pool_size.
  std::vector<ServerPtr> take_expired(int worker, Clock::time_point now, std::chrono::milliseconds idle_timeout,
                                      std::chrono::milliseconds lifetime, int keep_min);
  std::vector<ServerPtr> take_all_idle();
  void fail_waiters(const std::string& sqlstate, const std::string& message);

  // What statements may run without naming it (session_check.hpp), read for every statement a
  // client sends. Looked up by attach on a newly opened connection when the last look is due (never
  // made, or older than kCodeReachAge); a CREATE FUNCTION/TRIGGER/RULE through the pooler raises it
  // at once. Code created by other paths is seen at the next look.
  CodeReach code_reach() const { return code_reach_.load(std::memory_order_relaxed); }
  bool code_reach_due(Clock::time_point now) const;
  void set_code_reach(CodeReach r, Clock::time_point now);
  void code_defined();
  static constexpr std::chrono::seconds kCodeReachAge{10};
  // Custom setting names (app.tenant) seen for this database, for the session check, which can read
  // a custom setting only by name: from the database's functions (the code-reach look-up), and from
  // statements and bind values with unknown effects. At most kMaxCustomNames; later ones are not kept.
  void learn_custom_names(const std::vector<std::string>& names);
  std::vector<std::string> custom_names();
  static constexpr size_t kMaxCustomNames = 256;

  // ParameterStatus values a fresh server sends at login, given to clients at their login.
  std::optional<std::vector<std::pair<std::string, std::string>>> defaults();
  void set_defaults(std::vector<std::pair<std::string, std::string>> params);
  // SCRAM passthrough: the ClientKey a client proved, to log in to servers without a password.
  std::optional<auth::Key> scram_client_key();
  void set_scram_client_key(const auth::Key& k);

  struct Counts {
    int total = 0, idle = 0, waiting = 0;
    std::chrono::milliseconds longest_wait{0};  // of the clients waiting now
  };
  Counts counts();
  // The idle connections as the admin console lists them (SHOW SERVERS).
  struct IdleServer {
    uint64_t id = 0, last_client = 0;
    std::string host;
    int port = 0;
    Clock::time_point created, last_used;
    size_t prepared = 0;  // prepared::ServerStatements of the connection
    uint64_t prepared_hits = 0, prepared_misses = 0, prepared_evictions = 0;
  };
  std::vector<IdleServer> idle_servers();

 private:
  friend class SlotLease;
  // A connection (or a reserved slot that failed to connect) is gone: only through discard() and
  // SlotLease, never paired by hand.
  void slot_freed();
  struct Waiter {
    Waiter(asio::any_io_executor e, int w) : timer(e), worker(w) {}
    bool gave_up = false;
    asio::steady_timer timer;
    int worker;
    Clock::time_point since = Clock::now();
    ServerPtr granted;
    bool retry = false;
    std::string error, sqlstate;
  };
  using WaiterPtr = std::shared_ptr<Waiter>;
  void wake(const WaiterPtr& w);  // caller holds mu_
  ServerPtr pop_idle(int worker);  // caller holds mu_
  // An idle server about to be handed out: checked if it idled past check_delay (discarded when
  // dead), then moved to the taker's worker. Caller does not hold mu_.
  bool usable(const ServerPtr& s, const asio::any_io_executor& exec, int worker, const PoolLimits& limits);
  // What acquire() can have at once, decided under `lk` (held on entry, released unless Wait): an
  // idle connection in `out` (Retry when the one found was not usable: look again) or a slot.
  enum class Now { Got, Retry, Wait };
  Now take_now(std::unique_lock<std::mutex>& lk, int worker, const asio::any_io_executor& exec,
               const PoolLimits& limits, Acquired& out);
  bool wake_retry_one();

  DatabaseGroup* group_;
  std::mutex mu_;
  std::vector<std::vector<ServerPtr>> idle_;  // per worker, most recently used last
  int total_ = 0;                             // open connections plus connects in progress
  std::deque<WaiterPtr> waiters_;
  std::optional<std::vector<std::pair<std::string, std::string>>> defaults_;
  std::optional<auth::Key> scram_client_key_;
  std::atomic<CodeReach> code_reach_{CodeReach::Unknown};
  std::mutex names_mu_;
  std::vector<std::string> custom_names_;
  std::atomic<Clock::rep> code_checked_{0};  // Clock ticks of the last look; 0: never
};

// All pools, created on first use: one per (database, user, server). `max_db_connections` counts
// per server: a replica's connections do not use up the primary's.
class PoolRegistry {
 public:
  explicit PoolRegistry(int workers) : workers_(workers) {}
  Pool& get(const std::string& database, const std::string& user, const std::string& node = {});
  std::vector<Pool*> all();

 private:
  int workers_;
  std::mutex mu_;
  std::map<std::tuple<std::string, std::string, std::string>, std::unique_ptr<Pool>> pools_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<DatabaseGroup>> groups_;
};

}  // namespace pgopt::pooler
