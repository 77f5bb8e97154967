// The runtime as /metrics shows it, gathered on the daemon's main thread for metrics::Endpoint.
#include "pooler/ops/metrics_gather.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "pooler/client_session.hpp"
#include "pooler/split.hpp"

namespace pgopt::pooler::ops {

using metrics::Snapshot;

namespace {

// What one worker's clients add up to.
struct Tally {
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> clients;  // database, user, state
  std::map<const Pool*, uint64_t> attached;
};

// Runs on worker `w`: a session's fields are read only on its own thread.
awaitable<Tally> tally(Worker& w) {
  auto live = w.clients();
  Tally t;
  for (auto& c : live) {
    if (c->state() == ClientState::Closing) continue;
    ClientSnapshot s = c->snapshot();
    ++t.clients[{s.database, s.user, s.state}];
    if (s.server_pool) ++t.attached[s.server_pool];
  }
  co_return t;
}

}  // namespace

awaitable<Snapshot> gather_metrics(Runtime& rt) {
  Snapshot s;
  s.version = PGOPT_VERSION;
  s.accepting = !rt.shutting_down;
  Tally all;
  for (auto& w : rt.workers) {
    Tally part = co_await asio::co_spawn(w->ctx, tally(*w), asio::use_awaitable);
    for (auto& [k, n] : part.clients) all.clients[k] += n;
    for (auto& [p, n] : part.attached) all.attached[p] += n;
  }
  for (const auto& [k, n] : all.clients)
    s.clients.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), n});
  s.stats = rt.stats.collect();
  auto pools = rt.pools.all();
  std::sort(pools.begin(), pools.end(), [](const Pool* a, const Pool* b) {
    return std::tie(a->database, a->user, a->node) < std::tie(b->database, b->user, b->node);
  });
  for (Pool* p : pools) {
    auto c = p->counts();
    const auto it = all.attached.find(p);
    const int attached = it == all.attached.end() ? 0 : int(it->second);
    const int other = std::max(0, c.total - c.idle - attached);
    s.pools.push_back({p->database, p->user, p->node.empty() ? "primary" : p->node, uint64_t(attached),
                       uint64_t(std::max(0, c.idle)), uint64_t(other), double(c.longest_wait.count()) / 1e3});
  }
  auto cfg = rt.config();
  const auto now = routing::SteadyClock::now();
  for (const auto& [name, db] : cfg->databases) {
    s.pool_size[name] = uint64_t(std::max(0, cfg->pool_size(db)));
    if (!split_active(*cfg, db)) continue;
    auto set = rt.splits.find(name);
    if (!set) continue;
    s.split_databases.push_back(name);
    const auto& eps = set->endpoints();
    for (size_t i = 0; i < eps.size(); ++i) {
      auto st = set->status(int(i), now);
      Snapshot::Replica r;
      r.database = name;
      r.node = node_key(eps[i]);
      r.banned = st.banned;
      r.up = st.known && !st.banned && !st.promoted;
      if (r.up) {
        r.lag_seconds = double(st.lag.count()) / 1e3;
        r.lag_bytes = st.lag_bytes;
      }
      s.replicas.push_back(std::move(r));
    }
  }
  for (const auto& [name, c] : rt.failover.all()) {
    const auto st = c->stats();
    for (size_t i = 0; i < c->members().size(); ++i)
      s.members.push_back({name, fmt::format("{}:{}", c->members()[i].host, c->members()[i].port), st.primary == i,
                           std::string(i < st.roles.size() ? topology::to_string(st.roles[i]) : "failed")});
    std::optional<double> since;
    if (st.since != std::chrono::steady_clock::time_point{})  // a steady instant as Unix time
      since = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch() -
                                            (std::chrono::steady_clock::now() - st.since))
                  .count();
    s.elections.push_back({name, st.state == topology::State::SplitBrain, st.changes, st.split_brains,
                           std::string(topology::to_string(st.state)), since});
  }
  s.prepared_statements = rt.statements.size();
  if (auto rc = rt.result_cache_if_made()) {
    const auto counters = rc->store.counters();
    for (size_t i = 0; i < counters.size(); ++i) s.cache.emplace_back(std::string(rc->rules.slot_name(i)), counters[i]);
    s.cache_streams = rc->streams.snapshot();
  }
  co_return s;
}

metrics::Endpoint::Sources metrics_sources(Runtime& rt) {
  return {[&rt] { return gather_metrics(rt); }, [&rt] { return !rt.shutting_down; }};
}

}  // namespace pgopt::pooler::ops
