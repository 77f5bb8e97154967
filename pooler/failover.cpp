// The running pooler's view of each multi-host database's primary, and the hold of new
// transactions while there is none (rules in failover.hpp and topology/topology.hpp).
#include "pooler/failover.hpp"

#include <fmt/format.h>

#include "pooler/runtime.hpp"

namespace pgopt::pooler {

using topology::State;

Cluster::Cluster(std::vector<HostConfig> members, std::vector<PatroniUrl> patroni_urls)
    : members_(std::move(members)), patroni_urls_(std::move(patroni_urls)), topo_(members_.size()) {}

Cluster::View Cluster::view() const {
  std::lock_guard lk(mu_);
  View v;
  v.state = topo_.state();
  v.primary = topo_.primary();
  switch (v.state) {
    case State::Stable: v.route = PrimaryRoute::Go; break;
    case State::SplitBrain: v.route = PrimaryRoute::Refuse; break;
    case State::Discovering:
    case State::NoPrimary:
    case State::Disagree: v.route = PrimaryRoute::Wait; break;
  }
  for (size_t i : topo_.claimants())
    v.claimants += fmt::format("{}{}:{}", v.claimants.empty() ? "" : ", ", members_[i].host, members_[i].port);
  return v;
}

std::optional<size_t> Cluster::member_of(const ServerTarget& t) const {
  for (size_t i = 0; i < members_.size(); ++i)
    if (members_[i].host == t.host && members_[i].port == t.port) return i;
  return std::nullopt;
}

void Cluster::suspect() { suspected_.store(true, std::memory_order_relaxed); }

topology::Change Cluster::round(std::span<const topology::Probe> probes, topology::SteadyClock::time_point now,
                                const topology::PatroniView& patroni) {
  std::lock_guard lk(mu_);
  const topology::Change c = topo_.round(probes, now, patroni);
  if (!patroni_urls_.empty()) patroni_ = patroni;
  if (c == topology::Change::SplitBrain) ++split_brains_;
  suspected_.store(false, std::memory_order_relaxed);
  return c;
}

std::chrono::milliseconds Cluster::next_round(std::chrono::milliseconds period) const {
  std::lock_guard lk(mu_);
  if (suspected_.load(std::memory_order_relaxed)) return std::chrono::milliseconds(0);
  return topo_.next_round(period);
}

Cluster::Stats Cluster::stats() const {
  std::lock_guard lk(mu_);
  Stats s;
  s.state = topo_.state();
  s.primary = topo_.primary();
  for (size_t i = 0; i < topo_.size(); ++i) s.roles.push_back(topo_.role(i));
  s.changes = topo_.changes();
  s.split_brains = split_brains_;
  s.since = topo_.since();
  s.patroni = patroni_;
  return s;
}

std::vector<std::pair<std::string, std::shared_ptr<Cluster>>> Failover::update(const Config& cfg) {
  std::vector<std::pair<std::string, std::shared_ptr<Cluster>>> fresh;
  std::lock_guard lk(mu_);
  std::map<std::string, std::shared_ptr<Cluster>, std::less<>> next;
  for (const auto& [name, db] : cfg.databases) {
    if (db.hosts.empty()) continue;
    auto it = clusters_.find(name);
    if (it != clusters_.end() && it->second->members() == db.hosts && it->second->patroni_urls() == db.patroni_urls) {
      next.emplace(name, it->second);
      continue;
    }
    auto c = std::make_shared<Cluster>(db.hosts, db.patroni_urls);
    next.emplace(name, c);
    fresh.emplace_back(name, c);
  }
  for (auto& [name, c] : clusters_) {
    auto it = next.find(name);
    if (it == next.end() || it->second != c) c->retire();
  }
  clusters_ = std::move(next);
  return fresh;
}

std::shared_ptr<Cluster> Failover::find(std::string_view database) const {
  std::lock_guard lk(mu_);
  auto it = clusters_.find(database);
  return it == clusters_.end() ? nullptr : it->second;
}

std::vector<std::pair<std::string, std::shared_ptr<Cluster>>> Failover::all() const {
  std::lock_guard lk(mu_);
  return {clusters_.begin(), clusters_.end()};
}

void Failover::retire_all() {
  std::lock_guard lk(mu_);
  for (auto& [name, c] : clusters_) c->retire();
}

namespace {

ServerTarget member_target(const DatabaseConfig& db, const HostConfig& h) {
  ServerTarget t = server_target(db);
  t.host = h.host;
  t.port = h.port;
  return t;
}

}  // namespace

std::optional<ServerTarget> primary_target(const Runtime& rt, const DatabaseConfig& db) {
  if (db.hosts.empty()) return server_target(db);
  auto c = rt.failover.find(db.name);
  if (!c) return std::nullopt;
  const auto v = c->view();
  if (v.route != PrimaryRoute::Go || !v.primary) return std::nullopt;
  return member_target(db, c->members()[*v.primary]);
}

bool off_primary(const Runtime& rt, const DatabaseConfig& db, const ServerTarget& t) {
  if (db.hosts.empty()) return false;
  const auto p = primary_target(rt, db);
  return !p || p->host != t.host || p->port != t.port || p->dbname != t.dbname;
}

void suspect_primary(const Runtime& rt, std::string_view database) {
  if (auto c = rt.failover.find(database)) c->suspect();
}

awaitable<void> primary_lost(const Runtime& rt, std::string_view database) {
  suspect_primary(rt, database);
  asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(20));
  co_await t.async_wait(nothrow);
}

bool login_says_standby(const std::vector<std::pair<std::string, std::string>>& params) {
  for (const auto& [k, v] : params)
    if ((k == "in_hot_standby" || k == "default_transaction_read_only") && v == "on") return true;
  return false;
}

awaitable<PrimaryWait> await_primary(const Runtime& rt, const DatabaseConfig& db, std::chrono::milliseconds timeout,
                                     std::function<bool()> gone) {
  const auto deadline = Clock::now() + timeout;
  asio::steady_timer t(co_await asio::this_coro::executor);
  for (;;) {
    if (gone()) co_return PrimaryWait{PrimaryWait::Outcome::Gone, {}, {}, {}};
    auto c = rt.failover.find(db.name);
    const Cluster::View v = c ? c->view() : Cluster::View{};
    if (v.route == PrimaryRoute::Go && v.primary)
      co_return PrimaryWait{PrimaryWait::Outcome::Ready, member_target(db, c->members()[*v.primary]), {}, {}};
    if (v.route == PrimaryRoute::Refuse)
      co_return PrimaryWait{PrimaryWait::Outcome::Refused, {}, "57P03",
                            fmt::format("split brain: more than one server of database \"{}\" claims to be the "
                                        "primary ({}); pgopt refuses writes until only one does",
                                        db.name, v.claimants)};
    if (Clock::now() >= deadline)
      co_return PrimaryWait{PrimaryWait::Outcome::TimedOut, {}, "08006",
                            fmt::format("no primary server for database \"{}\" within failover_wait_timeout ({} ms)",
                                        db.name, timeout.count())};
    t.expires_after(std::chrono::milliseconds(5));
    co_await t.async_wait(nothrow);
  }
}

}  // namespace pgopt::pooler
