// Following the primary of multi-host databases (`hosts`, issue 18): each database's members and
// their Topology as the prober last found them, and what a new transaction may do meanwhile.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pooler/config/config.hpp"
#include "pooler/net.hpp"
#include "pooler/server_conn.hpp"
#include "pooler/topology/topology.hpp"

namespace pgopt::pooler {

struct Runtime;

// What attach does with a new transaction of a multi-host database.
enum class PrimaryRoute {
  Go,      // a member is the primary: connect there
  Wait,    // no primary yet (discovery, failover, switchover): hold the transaction
  Refuse,  // split brain: two members claim to be primary, never guess
};

// One multi-host database: its members and the election state. Written by its prober (one
// coroutine on the daemon's thread), read by every worker's attach; all under `mu_`.
class Cluster {
 public:
  explicit Cluster(std::vector<HostConfig> members, std::vector<PatroniUrl> patroni_urls = {});
  const std::vector<HostConfig>& members() const { return members_; }
  const std::vector<PatroniUrl>& patroni_urls() const { return patroni_urls_; }

  struct View {
    PrimaryRoute route = PrimaryRoute::Wait;
    std::optional<size_t> primary;
    topology::State state = topology::State::Discovering;
    std::string claimants;  // "h1:p1, h2:p2" in SplitBrain
  };
  View view() const;
  // A member index for a server's target, if it is one of the members.
  std::optional<size_t> member_of(const ServerTarget& t) const;
  // A server connection broke or a fresh one said it is in recovery: probe again at once.
  void suspect();
  bool suspected() const { return suspected_.load(std::memory_order_relaxed); }

  // The prober's side.
  topology::Change round(std::span<const topology::Probe> probes, topology::SteadyClock::time_point now,
                         const topology::PatroniView& patroni = {});
  std::chrono::milliseconds next_round(std::chrono::milliseconds period) const;
  void retire() { retired_.store(true, std::memory_order_relaxed); }
  bool retired() const { return retired_.load(std::memory_order_relaxed); }

  // For /metrics and the admin console.
  struct Stats {
    topology::State state = topology::State::Discovering;
    std::optional<size_t> primary;
    std::vector<topology::Probe> roles;
    uint64_t changes = 0, split_brains = 0;
    std::chrono::steady_clock::time_point since{};
    std::optional<topology::PatroniView> patroni;  // the last round's, with patroni_urls
  };
  Stats stats() const;

 private:
  const std::vector<HostConfig> members_;
  const std::vector<PatroniUrl> patroni_urls_;
  std::optional<topology::PatroniView> patroni_;
  mutable std::mutex mu_;
  topology::Topology topo_;
  uint64_t split_brains_ = 0;
  std::atomic<bool> suspected_{false}, retired_{false};
};

// Every multi-host database's Cluster, by name.
class Failover {
 public:
  // Brings the clusters in line with `cfg` (at start and each reload): a database whose member list
  // is unchanged keeps its Cluster and what was learnt; others are retired. Returns the new ones,
  // each needing a prober.
  std::vector<std::pair<std::string, std::shared_ptr<Cluster>>> update(const Config& cfg);
  std::shared_ptr<Cluster> find(std::string_view database) const;
  std::vector<std::pair<std::string, std::shared_ptr<Cluster>>> all() const;
  void retire_all();

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Cluster>, std::less<>> clusters_;
};

// Where the database's writes go now: server_target(db) for a one-host database, the primary
// member for a multi-host one (nullopt while there is none).
std::optional<ServerTarget> primary_target(const Runtime& rt, const DatabaseConfig& db);
// A pooled primary connection of `db` that must not be handed out again: its member is no longer
// the primary (a failover moved it), or it is not a member at all (a reload changed the list).
bool off_primary(const Runtime& rt, const DatabaseConfig& db, const ServerTarget& t);
void suspect_primary(const Runtime& rt, std::string_view database);
// A connection to the primary failed: suspect it, and pause a moment (the prober's next round)
// so a retry does not spin on a refused port.
awaitable<void> primary_lost(const Runtime& rt, std::string_view database);
// Whether a login's ParameterStatus says the server takes no writes: in_hot_standby (PostgreSQL
// 14+) or default_transaction_read_only on.
bool login_says_standby(const std::vector<std::pair<std::string, std::string>>& params);

// What attach gets for a new transaction on the primary of a multi-host database.
struct PrimaryWait {
  enum class Outcome { Ready, Refused, TimedOut, Gone };
  Outcome outcome = Outcome::Ready;
  ServerTarget target;
  std::string sqlstate, message;  // Refused and TimedOut
};
// Holds until the database has a primary, the wait exceeds `timeout` (failover_wait_timeout), or
// `gone()` says the client left; refuses at once in split brain. Polls every 5 ms (failovers are
// rare; a waiting client costs a timer).
awaitable<PrimaryWait> await_primary(const Runtime& rt, const DatabaseConfig& db, std::chrono::milliseconds timeout,
                                     std::function<bool()> gone);

// GET /cluster of each of `urls` in turn until one answers (each within a share of `timeout`), and
// Patroni's leader among `members`; answered is false when none did. https:// URLs are verified
// against the database's patroni_ca_file (PEM; empty: the system's roots) and their host name, and
// shown patroni_cert_file when it is set. `errors` (resized to urls.size()) gets, for each URL
// asked, why it gave no view, or an empty string when it answered; URLs not asked keep theirs.
awaitable<topology::PatroniView> ask_patroni(const std::vector<PatroniUrl>& urls, const std::vector<HostConfig>& members,
                                             const DatabaseConfig& tls, std::chrono::milliseconds timeout,
                                             std::vector<std::string>& errors);

// Probes every member of `cluster` each round (all at once), feeds Topology::round(), and on a
// change logs it and closes the idle connections of the old primary; until retired or shutdown.
awaitable<void> probe_cluster(Runtime& rt, std::string database, std::shared_ptr<Cluster> cluster);

}  // namespace pgopt::pooler
