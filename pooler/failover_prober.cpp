// The prober of a multi-host database: asks every member for its role each round, all at once, on
// kept connections, and applies what Topology::round() decides to the pools.
#include <fmt/format.h>

#include <tuple>

#include "pooler/failover.hpp"
#include "pooler/log.hpp"
#include "pooler/runtime.hpp"
#include "pooler/spawn.hpp"
#include "pooler/split.hpp"

namespace pgopt::pooler {

using namespace asio::experimental::awaitable_operators;

namespace {

using topology::Probe;

constexpr std::chrono::milliseconds kMinProbeTimeout{1000}, kSlice{20};
const std::string kRoleSql =
    "SELECT pg_catalog.pg_is_in_recovery(), pg_catalog.current_setting('default_transaction_read_only')";

struct Prober {
  Runtime& rt;
  std::string database;
  std::shared_ptr<Cluster> cluster;
  std::vector<ServerPtr> conns;
  topology::State last_state = topology::State::Discovering;
  // Why each patroni_urls entry last gave no view ("" answered), and what was last logged of it.
  std::vector<std::string> patroni_errors, patroni_logged;

  // One member's answer: a kept connection (opened again when it broke) runs kRoleSql within
  // `timeout`; a timeout is Silent (no news), a refusal or an error is Failed.
  awaitable<Probe> probe(size_t i, ServerTarget target, ServerCredentials creds, std::chrono::milliseconds timeout) {
    ServerPtr& conn = conns[i];
    if (!conn) {
      auto lr = co_await connect_server(target, creds, timeout, rt.next_server_id.fetch_add(1, std::memory_order_relaxed));
      if (!lr.server) {
        log::debug("database {}: member {}:{} cannot be probed: {}", database, target.host, target.port, lr.error);
        co_return lr.error.find("timed out") != std::string::npos ? Probe::Silent : Probe::Failed;
      }
      conn = std::move(lr.server);
    }
    bool timed_out = false;
    auto r = co_await run_internal_within(conn, kRoleSql, timeout, timed_out);
    if (timed_out || r.broken || !r.ok || r.row.size() < 2 || !r.row[0] || !r.row[1]) {
      conn->close();
      conn.reset();
      co_return timed_out ? Probe::Silent : Probe::Failed;
    }
    if (*r.row[0] == "t") co_return Probe::Standby;
    if (*r.row[1] == "on") co_return Probe::Standby;  // no writes there: not a primary for pgopt
    if (login_says_standby(r.parameters)) co_return Probe::Standby;  // reported since the query
    co_return Probe::Primary;
  }

  // Every member at once; returns when all have answered (each within its timeout).
  awaitable<std::vector<Probe>> probe_all(const DatabaseConfig& db, const ServerCredentials& creds,
                                          std::chrono::milliseconds timeout) {
    auto exec = co_await asio::this_coro::executor;
    const auto& members = cluster->members();
    auto answers = std::make_shared<std::vector<Probe>>(members.size(), Probe::Silent);
    auto left = std::make_shared<size_t>(members.size());
    auto done = std::make_shared<asio::steady_timer>(exec, asio::steady_timer::time_point::max());
    for (size_t i = 0; i < members.size(); ++i) {
      ServerTarget t = server_target(db);
      t.host = members[i].host;
      t.port = members[i].port;
      asio::co_spawn(exec, probe(i, std::move(t), creds, timeout),
                     [answers, left, done, i](std::exception_ptr e, Probe p) {
                       (*answers)[i] = e ? Probe::Failed : p;
                       if (--*left == 0) done->cancel();
                     });
    }
    if (*left > 0) co_await done->async_wait(nothrow);
    co_return *answers;
  }

  // A Patroni URL that cannot be read is a WARNING when it starts failing or fails differently (a
  // wrong patroni_ca_file must not degrade failover silently), and an INFO when it answers again;
  // not once per round, since a member that is down stays down for many rounds.
  void log_patroni_errors() {
    const auto& urls = cluster->patroni_urls();
    patroni_logged.resize(patroni_errors.size());
    for (size_t i = 0; i < patroni_errors.size() && i < urls.size(); ++i) {
      if (patroni_errors[i] == patroni_logged[i]) continue;
      const auto& u = urls[i];
      if (!patroni_errors[i].empty())
        log::warn("database {}: Patroni at {}://{}:{} cannot be read: {}", database, u.https ? "https" : "http",
                  u.host, u.port, patroni_errors[i]);
      else
        log::info("database {}: Patroni at {}://{}:{} answers again", database, u.https ? "https" : "http", u.host,
                  u.port);
      patroni_logged[i] = patroni_errors[i];
    }
  }

  void apply(topology::Change change, const std::vector<Probe>& answers, const topology::PatroniView& patroni) {
    const auto v = cluster->view();
    const auto& m = cluster->members();
    std::string roles;
    for (size_t i = 0; i < answers.size(); ++i)
      roles += fmt::format("{}{}:{}={}", i ? ", " : "", m[i].host, m[i].port, topology::to_string(answers[i]));
    if (!cluster->patroni_urls().empty()) {
      roles += patroni.answered ? (patroni.leader ? fmt::format("; Patroni leader {}:{}", m[*patroni.leader].host,
                                                                m[*patroni.leader].port)
                                                  : std::string("; Patroni: no running leader among hosts"))
                                : std::string("; Patroni: no answer");
    }
    if (v.state == topology::State::Disagree && last_state != topology::State::Disagree)
      log::warn("database {}: Patroni and PostgreSQL disagree on the primary; new transactions wait ({})", database,
                roles);
    last_state = v.state;
    if (change == topology::Change::None) return;
    switch (change) {
      case topology::Change::Elected:
      case topology::Change::Moved:
        log::warn("database {}: primary is now {}:{} ({}; {})", database, m[*v.primary].host, m[*v.primary].port,
                  topology::to_string(change), roles);
        break;
      case topology::Change::Lost:
        log::warn("database {}: primary lost; new transactions wait for a new one ({})", database, roles);
        break;
      case topology::Change::SplitBrain:
        log::error("database {}: SPLIT BRAIN: {} claim to be primary; writes are refused ({})", database, v.claimants,
                   roles);
        break;
      case topology::Change::None: break;
    }
    // Connections to the old primary are closed (idle now, busy ones at release: off_primary).
    if (change != topology::Change::Elected) drop_idle_servers(rt, database, "");
  }

  awaitable<void> run() {
    asio::steady_timer tick(co_await asio::this_coro::executor);
    conns.resize(cluster->members().size());
    auto last_round = Clock::now() - std::chrono::hours(1);
    bool waiting_logged = false;
    while (!cluster->retired() && !rt.shutting_down) {
      auto cfg = rt.config();
      const DatabaseConfig* db = cfg->find_database(database);
      if (!db) break;
      const auto due = last_round + cluster->next_round(cfg->pooler.health_check_period);
      if (Clock::now() < due && !cluster->suspected()) {
        tick.expires_after(std::min<Clock::duration>(kSlice, due - Clock::now()));
        co_await tick.async_wait(nothrow);
        continue;
      }
      auto creds = poll_credentials(rt, database);
      if (!creds) {
        if (!waiting_logged) log::debug("database {}: probing the members waits for a client to log in", database);
        waiting_logged = true;
        tick.expires_after(kSlice);
        co_await tick.async_wait(nothrow);
        continue;
      }
      const auto timeout = std::min(cfg->pooler.server_connect_timeout,
                                    std::max(kMinProbeTimeout, cfg->pooler.health_check_period));
      last_round = Clock::now();
      std::vector<Probe> answers;
      topology::PatroniView patroni;
      if (cluster->patroni_urls().empty()) {
        answers = co_await probe_all(*db, *creds, timeout);
      } else {  // both sources at once, so they describe the same moment
        std::tie(answers, patroni) =
            co_await (probe_all(*db, *creds, timeout) &&
                      ask_patroni(cluster->patroni_urls(), cluster->members(), *db, timeout, patroni_errors));
        log_patroni_errors();
      }
      if (cluster->retired()) break;
      apply(cluster->round(answers, topology::SteadyClock::now(), patroni), answers, patroni);
    }
    for (auto& c : conns)
      if (c) c->close();
  }
};

}  // namespace

awaitable<void> probe_cluster(Runtime& rt, std::string database, std::shared_ptr<Cluster> cluster) {
  Prober p{rt, std::move(database), std::move(cluster), {}, topology::State::Discovering, {}, {}};
  co_await p.run();
}

}  // namespace pgopt::pooler
