// State every connection shares: the live config and auth file, pools, workers, cancel keys, counters.
#pragma once

#include <atomic>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "pooler/auth/userlist.hpp"
#include "pooler/cache/result_cache.hpp"
#include "pooler/capture/store.hpp"
#include "pooler/config/config.hpp"
#include "pooler/failover.hpp"
#include "pooler/guc_state.hpp"
#include "pooler/memory_budget.hpp"
#include "pooler/metrics/stats.hpp"
#include "pooler/net.hpp"
#include "pooler/parking.hpp"
#include "pooler/pause.hpp"
#include "pooler/pool.hpp"
#include "pooler/prepared/statement_registry.hpp"
#include "pooler/protocol/codec.hpp"
#include "pooler/routing/router.hpp"
#include "pooler/split.hpp"
#include "sql/cache_facts.hpp"

namespace pgopt::pooler {

class ClientSession;
void wake_parked_client(void* session);      // for ParkingLot (client_session.cpp)
void hangup_waiting_client(void* session);   // for Worker::hangups (client_servers.cpp)

// Every client session of the process in one 16-byte slot each: found by its cancel key (a
// CancelRequest arrives on a new connection, possibly on another worker, and must reach that client
// and no other) and listed per worker (the sweep, the admin console, metrics, shutdown). The key's
// "pid" is the slot plus a per-slot generation (pid = generation << 20 | slot + 1, always a positive
// 32-bit number), so the backend pid a client sees is not the previous occupant's: drivers tell
// connections apart by it and operators match it in logs. Free slots are reused oldest first, so a
// pid comes back only after 2048 reuses of its slot and every other free slot has been used in
// between. The secret is random, so a cancel cannot be forged by guessing.
// Sessions are not owned here: each adds itself in its constructor and removes itself in its
// destructor, and a lookup takes a reference only while the session is still alive.
class ClientTable {
 public:
  static constexpr int kSlotBits = 20;  // at most 2^20 - 1 sessions at once
  static constexpr int32_t kMaxSlots = (int32_t(1) << kSlotBits) - 1;
  protocol::CancelKey add(ClientSession* c, int worker);
  // A fleet member stamps its peer id into every secret it issues (fleet/peer_key.hpp). Set once,
  // before the first client: peer_id is restart-only.
  void set_peer_id(int id) { peer_id_ = id; }
  void remove(const protocol::CancelKey& k);
  // An online takeover (daemon_takeover.cpp): the slots below the old process's table size are
  // kept off the free list, so that each client it hands over can claim its own slot and keep the
  // cancel key it was given; release_reserved() frees the slots nobody claimed.
  void reserve(size_t slots);
  bool claim(const protocol::CancelKey& k, ClientSession* c, int worker);  // false: not reserved
  void release_reserved();
  size_t slots();  // how many slots exist (free or not)
  std::shared_ptr<ClientSession> find(const protocol::CancelKey& k);
  std::vector<std::shared_ptr<ClientSession>> on_worker(int worker);
  static int32_t slot_of(int32_t pid) { return (pid & kMaxSlots) - 1; }

 private:
  struct Slot {
    ClientSession* session = nullptr;  // null: free, and `secret` is the next free slot (or -1)
    int32_t secret = 0;
    uint16_t worker = 0;
    uint16_t generation = 0;  // of the session in it (or of the last one), 11 bits used
  };
  static int32_t pid_of(int32_t index, uint16_t generation) { return int32_t(generation) << kSlotBits | (index + 1); }
  // Slots in 16 kB chunks that never move: a std::deque's 512-byte blocks would each land on a
  // page of short-lived 512-byte login buffers and keep that page (measured: 1.3 MB for 10,000).
  static constexpr size_t kChunk = 1024;
  Slot& slot(size_t i) { return chunks_[i / kChunk][i % kChunk]; }
  std::mutex mu_;
  std::vector<std::unique_ptr<Slot[]>> chunks_;
  size_t size_ = 0;
  int32_t free_ = -1, free_tail_ = -1;  // the free slots, oldest first (FIFO)
  static constexpr int32_t kReserved = -2;  // the `secret` of a free slot kept for claim()
  int peer_id_ = 0;
};

// One thread, one io_context. Clients live on the worker that accepted them.
struct Worker {
  Worker(int i, ClientTable& t) : index(i), table(t) {}
  int index;
  ClientTable& table;
  std::vector<std::shared_ptr<ClientSession>> clients() { return table.on_worker(index); }  // live ones
  asio::io_context ctx{1};  // concurrency hint 1: no locking inside Asio for a one-thread context
  std::thread thread;
  ParkingLot parking{ctx, &wake_parked_client};  // this worker's parked clients (parking.hpp)
  // Its clients waiting for a server, watched for a closed socket (parking.hpp).
  ParkingLot hangups{ctx, &hangup_waiting_client, ParkingLot::kHangup};
  int parked_since_trim = 0;  // clients parked on this worker since the last malloc_trim (sweep_loop)
  // Read/write splitting: a Router per database (not thread-safe, so per worker), built from the
  // config `routers_config` points to (worker_router() rebuilds them after a reload).
  std::map<std::string, std::unique_ptr<routing::Router>, std::less<>> routers;
  std::shared_ptr<const Config> routers_config;
  // Workload capture of this worker's sessions (capture/), merged when read.
  capture::WorkerStore capture{uint64_t(index) + 1};
  // The result cache's questions about each statement text, answered once per text (sql/cache_facts.hpp).
  sql::CacheFactsMemo cache_facts;
};

class Handover;  // takeover.hpp

struct Runtime {
  explicit Runtime(int nworkers) : pools(nworkers), stats(nworkers) {}

  // The running config. Each thread keeps the snapshot it read last and reads again only after a
  // reload put another in place: an atomic<shared_ptr> load takes a lock (libstdc++ 12 guards it
  // with a mutex from a shared pool), and the relay asks several times per transaction.
  std::shared_ptr<const Config> config() const;
  void set_config(std::shared_ptr<const Config> c);
  std::shared_ptr<const auth::UserList> users() const { return users_.load(); }
  void set_users(std::shared_ptr<const auth::UserList> u) { users_.store(std::move(u)); }

  PoolRegistry pools;
  ClientTable client_table;  // every session, by cancel key and by worker
  prepared::StatementRegistry statements;
  Splits splits;
  Failover failover;  // the primary of each multi-host database (failover.hpp)
  metrics::Stats stats;  // per database, per worker: SHOW STATS and /metrics
  Pauses pauses;
  // Client sessions with the same settings share one copy of them (guc_state.hpp).
  GucInterner gucs;
  std::vector<std::unique_ptr<Worker>> workers;
  std::atomic<int> clients{0};
  std::atomic<uint64_t> next_client_id{1};
  std::atomic<uint64_t> next_server_id{1};
  std::atomic<uint64_t> session_checks{0};
  // Client messages over kLargeMessage, held whole while they are relayed (large_message_memory).
  MemoryBudget large_messages;
  static constexpr size_t kLargeMessage = 1u << 20;  // servers asked what their session holds (session_check.hpp)
  std::atomic<bool> shutting_down{false};
  // Set once a new process has taken the listeners (takeover.hpp): idle clients move to it.
  std::atomic<Handover*> handover{nullptr};
  // Set by the Daemon for the admin console's RELOAD: runs on `main` (the signal thread), like
  // SIGHUP; returns the errors that kept the running config (empty: applied).
  asio::any_io_executor main;
  std::function<std::vector<std::string>()> reload;
  // The same for the admin console's SET: puts a config built from the running one in place, as a
  // reload would (the auth file is not re-read).
  std::function<void(std::shared_ptr<const Config>)> apply;

  // The result cache (cache/result_cache.hpp): made by the first session that logs in with
  // `[cache] enabled = true`, then kept; null while no such session came (admin SHOW CACHE).
  std::shared_ptr<cache::ResultCache> result_cache(const CacheConfig& c) {
    std::lock_guard lock(cache_mu_);
    if (!cache_) cache_ = std::make_shared<cache::ResultCache>(c);
    return cache_;
  }
  std::shared_ptr<cache::ResultCache> result_cache_if_made() const {
    std::lock_guard lock(cache_mu_);
    return cache_;
  }

 private:
  mutable std::mutex cache_mu_;
  std::shared_ptr<cache::ResultCache> cache_;
  std::atomic<std::shared_ptr<const Config>> config_;
  // Which config_ is in place: unique across every Runtime of the process (a thread's cached
  // snapshot can never pass for another runtime's), 0 while there is none.
  std::atomic<uint64_t> config_generation_{0};
  std::atomic<std::shared_ptr<const auth::UserList>> users_;
};

// How pgopt logs in to a server for `pool`'s user: the auth file's secret, or for a SCRAM verifier
// the ClientKey a client proved (passthrough).
ServerCredentials server_credentials(const Runtime& rt, Pool& pool);
ServerTarget server_target(const DatabaseConfig& db);

}  // namespace pgopt::pooler
