// Read/write splitting as the running pooler holds it: each database's replica set and poller, and
// one router per worker.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pooler/config/config.hpp"
#include "pooler/net.hpp"
#include "pooler/routing/replica_set.hpp"
#include "pooler/routing/router.hpp"
#include "pooler/server_conn.hpp"

namespace pgopt::pooler {

struct Runtime;
struct Worker;

// Splitting applies to a database in transaction mode with read_write_split and a replica; in
// session mode a client keeps one server, so there is nothing to split.
bool split_active(const Config& cfg, const DatabaseConfig& db);
routing::ReplicaSetOptions replica_options(const Config& cfg, const DatabaseConfig& db);
routing::RouterOptions router_options(const Config& cfg, const DatabaseConfig& db);
// A replica's pool key ("host:port"); the primary's is empty.
std::string node_key(const routing::ReplicaEndpoint& e);

// The replica sets of every database with splitting configured (in any pool mode: the set and its
// poller exist only where split_active()).
class Splits {
 public:
  // Brings the sets in line with `cfg`, at start and at each reload. A database whose replica list
  // is unchanged keeps its set, and what the poller learnt, with the new options; a changed or
  // removed one is retired (its poller stops). Returns the new sets, each needing a poller.
  std::vector<std::pair<std::string, std::shared_ptr<routing::ReplicaSet>>> update(const Config& cfg);
  std::shared_ptr<routing::ReplicaSet> find(std::string_view database) const;
  void retire_all();

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<routing::ReplicaSet>, std::less<>> sets_;
};

// The worker's Router for `db`, rebuilt when the live config changes (function lists are baked
// into its classification cache). Call on the worker's own thread.
routing::Router& worker_router(Worker& w, const std::shared_ptr<const Config>& cfg, const DatabaseConfig& db);

// Closes the idle pooled connections to one server of a database (all users): after a replica
// failed, or came back, the connections from before are dead or suspect.
void drop_idle_servers(Runtime& rt, std::string_view database, std::string_view node);

// Logs in to the database's servers as some user who has a pool there (the poller has no
// credentials of its own); nullopt until a client of the database has logged in.
std::optional<ServerCredentials> poll_credentials(Runtime& rt, std::string_view database);

// Polls the primary's WAL position and each replica's replay position every lag_poll_interval,
// banning replicas that fail, until the set is retired or the pooler shuts down.
awaitable<void> poll_replicas(Runtime& rt, std::string database, std::shared_ptr<routing::ReplicaSet> set);

}  // namespace pgopt::pooler
