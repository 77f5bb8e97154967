// The admin console's control commands: PAUSE, RESUME, KILL <db> and SET, runtime in, reply out.
#include "pooler/admin/control.hpp"

#include <fmt/format.h>

#include "pooler/client_session.hpp"
#include "pooler/log.hpp"
#include "pooler/tls/context.hpp"

namespace pgopt::pooler::admin {

namespace proto = pgopt::protocol;

namespace {

constexpr auto kPollEvery = std::chrono::milliseconds(20);

bool known_database(Runtime& rt, const std::string& db) { return db.empty() || rt.config()->find_database(db); }

void unknown_database(std::string& reply, const std::string& db) {
  proto::error_response(reply, "ERROR", "3D000", fmt::format("no database \"{}\" in the configuration", db), {},
                        "SHOW DATABASES lists them");
}

// Pools of `db` (all pools for an empty name), primary and replicas alike.
std::vector<Pool*> pools_of(Runtime& rt, const std::string& db) {
  std::vector<Pool*> out;
  for (Pool* p : rt.pools.all())
    if (db.empty() || p->database == db) out.push_back(p);
  return out;
}

// Servers of `db` that a client holds or that are being opened for one.
int busy_servers(Runtime& rt, const std::string& db) {
  int busy = 0;
  for (Pool* p : pools_of(rt, db)) {
    auto c = p->counts();
    busy += c.total - c.idle;
  }
  return busy;
}

void close_idle(Runtime& rt, const std::string& db) {
  for (Pool* p : pools_of(rt, db))
    for (auto& s : p->take_all_idle()) p->discard(s);
}

std::string what(const std::string& db) { return db.empty() ? "every database" : fmt::format("database \"{}\"", db); }

// Runs on worker `w`: a session's fields are read on its own thread only.
awaitable<int> disconnect_database(Worker& w, std::string db, std::string reason) {
  auto victims = w.clients();
  int n = 0;
  for (auto& c : victims) {
    if (c->state() == ClientState::Closing || c->state() == ClientState::Login || c->is_admin() ||
        c->database() != db)
      continue;
    c->disconnect(reason, "57P01", "terminating connection due to administrator command");
    ++n;
  }
  co_return n;
}

awaitable<void> apply_on_main(Runtime& rt, std::shared_ptr<const Config> c) {
  rt.apply(std::move(c));
  co_return;
}

}  // namespace

awaitable<void> pause(Runtime& rt, const Command& cmd, std::string& reply, std::function<bool()> gone,
                      std::string by) {
  const std::string& db = cmd.database;
  if (!known_database(rt, db)) {
    unknown_database(reply, db);
    co_return;
  }
  if (rt.pauses.pause(db) == Pauses::Change::Already) {
    proto::error_response(reply, "ERROR", "55000", fmt::format("{} is already paused", what(db)));
    co_return;
  }
  log::info("{} admin console: PAUSE {}: waiting for running transactions", by, what(db));
  // As PgBouncer: the command returns once no client holds a server of the database, and the
  // servers are closed, so the database can be restarted or switched over underneath.
  asio::steady_timer t(co_await asio::this_coro::executor);
  while (busy_servers(rt, db) > 0) {
    if (gone()) co_return;  // the pause stays: RESUME lifts it
    t.expires_after(kPollEvery);
    co_await t.async_wait(nothrow);
  }
  close_idle(rt, db);
  log::info("{} admin console: PAUSE {}: done, servers closed", by, what(db));
  proto::command_complete(reply, "PAUSE");
}

void resume(Runtime& rt, const Command& cmd, std::string& reply, const std::string& by) {
  const std::string& db = cmd.database;
  if (!known_database(rt, db)) {
    unknown_database(reply, db);
    return;
  }
  if (rt.pauses.resume(db) == Pauses::Change::NotPaused) {
    const bool all = rt.pauses.all();
    proto::error_response(reply, "ERROR", "55000", fmt::format("{} is not paused", what(db)), {},
                          all ? "every database is paused: RESUME without a name lifts that" : "");
    return;
  }
  log::info("{} admin console: RESUME {}", by, what(db));
  proto::command_complete(reply, "RESUME");
}

awaitable<void> kill_database(Runtime& rt, const Command& cmd, std::string& reply, std::string by) {
  const std::string& db = cmd.database;
  if (!known_database(rt, db)) {
    unknown_database(reply, db);
    co_return;
  }
  // As PgBouncer: KILL also pauses, so clients that connect meanwhile wait for RESUME instead of
  // reopening the servers that were just closed.
  rt.pauses.pause(db);
  log::info("{} admin console: KILL {}: disconnecting its clients and closing its servers", by, what(db));
  int killed = 0;
  for (auto& w : rt.workers)
    killed += co_await asio::co_spawn(
        w->ctx, disconnect_database(*w, db, fmt::format("KILL {} from the admin console ({})", db, by)),
        asio::use_awaitable);
  for (Pool* p : pools_of(rt, db)) p->fail_waiters("57P01", "terminating connection due to administrator command");
  // The disconnected clients give their servers back asynchronously (a transaction is rolled back
  // first); wait a little for them so that they are closed too, rather than left idle.
  asio::steady_timer t(co_await asio::this_coro::executor);
  for (int i = 0; i < 250 && busy_servers(rt, db) > 0; ++i) {
    t.expires_after(kPollEvery);
    co_await t.async_wait(nothrow);
  }
  close_idle(rt, db);
  log::info("{} admin console: KILL {}: {} client(s) disconnected; RESUME {} lets clients in again", by, what(db),
            killed, db);
  proto::command_complete(reply, "KILL");
}

SetResult config_with(const Config& current, const std::string& key, const std::string& value) {
  const auto keys = pooler_keys();
  if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
    return {nullptr, "42704", fmt::format("unrecognized configuration parameter \"{}\"", key)};
  }
  if (!reloadable("pooler." + key)) {
    return {nullptr, "55P02", fmt::format("\"{}\" cannot be changed without restarting the pooler", key)};
  }
  if (value.find_first_of("\r\n") != std::string::npos)
    return {nullptr, "22023", fmt::format("{}: the value must be one line", key)};
  // The running config as TOML with this one line replaced, validated by the same parser as the
  // file, so SET accepts exactly what the file would.
  std::string text = dump_config(current, DumpMode::Overrides);
  const std::string prefix = key + " = ";
  size_t at = text.starts_with(prefix) ? 0 : text.find("\n" + prefix);
  const std::string line = prefix + value + "\n";
  if (at == std::string::npos) {
    text.insert(text.find('\n') + 1, line);  // an unset file key: after "[pooler]"
  } else {
    if (at != 0) ++at;
    text.replace(at, text.find('\n', at) + 1 - at, line);
  }
  auto parsed = parse_config(text, current.path);
  if (!parsed.config) {
    std::string message;
    for (const auto& e : parsed.errors) message += (message.empty() ? "" : "; ") + e.message;
    return {nullptr, "22023", message};
  }
  return {parsed.config, {}, {}};
}

awaitable<void> set(Runtime& rt, const Command& cmd, std::string& reply, std::string by) {
  auto r = config_with(*rt.config(), cmd.key, cmd.value);
  if (!r.config) {
    proto::error_response(reply, "ERROR", r.sqlstate, r.message);
    co_return;
  }
  if (!rt.apply) {
    proto::error_response(reply, "ERROR", "0A000", "SET is not available in this process");
    co_return;
  }
  // A TLS key is only accepted with files that load, as a reload would require.
  if (cmd.key.find("tls_") != std::string::npos) {
    auto built = tls::Contexts::build(r.config->pooler);
    if (!built.contexts) {
      std::string message;
      for (const auto& e : built.errors) message += (message.empty() ? "" : "; ") + e;
      proto::error_response(reply, "ERROR", "22023", message);
      co_return;
    }
  }
  log::info("{} admin console: SET {} = {} (until the next reload or restart)", by, cmd.key, cmd.value);
  co_await asio::co_spawn(rt.main, apply_on_main(rt, r.config), asio::use_awaitable);
  proto::command_complete(reply, "SET");
}

void cache_clear(Runtime& rt, const Command& cmd, std::string& reply, const std::string& by) {
  auto rc = rt.result_cache_if_made();
  if (cmd.rule.empty()) {
    if (rc) rc->store.clear();
    log::info("{} admin console: CACHE CLEAR", by);
    proto::command_complete(reply, "CACHE CLEAR");
    return;
  }
  // No cache made yet: no rule is known, whatever the config says (nothing to clear either way).
  for (size_t i = 0; rc && i < rc->rules.slot_count(); ++i) {
    if (rc->rules.slot_name(i) != cmd.rule) continue;
    rc->store.clear_rule(i);
    log::info("{} admin console: CACHE CLEAR {}", by, cmd.rule);
    proto::command_complete(reply, "CACHE CLEAR");
    return;
  }
  proto::error_response(reply, "ERROR", "42704", fmt::format("no cache rule \"{}\"", cmd.rule));
}

}  // namespace pgopt::pooler::admin
