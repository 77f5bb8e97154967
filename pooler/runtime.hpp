// State every connection shares: the live config and auth file, pools, workers, cancel keys, counters.
#pragma once

#include <atomic>
#include <cstring>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "pooler/auth/userlist.hpp"
#include "pooler/capture/store.hpp"
#include "pooler/config/config.hpp"
#include "pooler/guc_state.hpp"
#include "pooler/metrics/stats.hpp"
#include "pooler/net.hpp"
#include "pooler/pause.hpp"
#include "pooler/pool.hpp"
#include "pooler/prepared/statement_registry.hpp"
#include "pooler/protocol/codec.hpp"
#include "pooler/routing/router.hpp"
#include "pooler/split.hpp"

namespace pgopt::pooler {

class ClientSession;

// One thread, one io_context. Clients live on the worker that accepted them.
struct Worker {
  explicit Worker(int i) : index(i) {}
  int index;
  asio::io_context ctx{1};  // concurrency hint 1: no locking inside Asio for a one-thread context
  std::thread thread;
  std::mutex clients_mu;  // guards `clients` (the admin and shutdown read it from other threads)
  std::list<std::weak_ptr<ClientSession>> clients;
  int parked_since_trim = 0;  // clients parked on this worker since the last malloc_trim (sweep_loop)
  // Read/write splitting: a Router per database (not thread-safe, so per worker), built from the
  // config `routers_config` points to (worker_router() rebuilds them after a reload).
  std::map<std::string, std::unique_ptr<routing::Router>, std::less<>> routers;
  std::shared_ptr<const Config> routers_config;
  // Workload capture of this worker's sessions (capture/), merged when read.
  capture::WorkerStore capture{uint64_t(index) + 1};
};

// Maps the BackendKeyData the pooler gave each client to that client, so a CancelRequest (which
// arrives on a new connection, possibly on another worker) reaches the right session and no other.
class CancelRegistry {
 public:
  protocol::CancelKey add(const std::shared_ptr<ClientSession>& c, uint64_t id);
  void remove(const protocol::CancelKey& k);
  std::shared_ptr<ClientSession> find(const protocol::CancelKey& k);

 private:
  std::mutex mu_;
  std::unordered_map<int32_t, std::pair<int32_t, std::weak_ptr<ClientSession>>> by_pid_;
};

struct Runtime {
  explicit Runtime(int nworkers) : pools(nworkers), stats(nworkers) {}

  std::shared_ptr<const Config> config() const { return config_.load(); }
  void set_config(std::shared_ptr<const Config> c) { config_.store(std::move(c)); }
  std::shared_ptr<const auth::UserList> users() const { return users_.load(); }
  void set_users(std::shared_ptr<const auth::UserList> u) { users_.store(std::move(u)); }

  PoolRegistry pools;
  CancelRegistry cancels;
  prepared::StatementRegistry statements;
  Splits splits;
  metrics::Stats stats;  // per database, per worker: SHOW STATS and /metrics
  Pauses pauses;
  // Client sessions with the same settings share one copy of them (guc_state.hpp).
  GucInterner gucs;
  std::vector<std::unique_ptr<Worker>> workers;
  std::atomic<int> clients{0};
  std::atomic<uint64_t> next_client_id{1};
  std::atomic<uint64_t> next_server_id{1};
  std::atomic<bool> shutting_down{false};
  // Set by the Daemon for the admin console's RELOAD: runs on `main` (the signal thread), like
  // SIGHUP; returns the errors that kept the running config (empty: applied).
  asio::any_io_executor main;
  std::function<std::vector<std::string>()> reload;
  // The same for the admin console's SET: puts a config built from the running one in place, as a
  // reload would (the auth file is not re-read).
  std::function<void(std::shared_ptr<const Config>)> apply;

 private:
  std::atomic<std::shared_ptr<const Config>> config_;
  std::atomic<std::shared_ptr<const auth::UserList>> users_;
};

// How pgopt logs in to a server for `pool`'s user: the auth file's secret, or for a SCRAM verifier
// the ClientKey a client proved (passthrough).
ServerCredentials server_credentials(const Runtime& rt, Pool& pool);
ServerTarget server_target(const DatabaseConfig& db);

}  // namespace pgopt::pooler
