// One client's server connections: getting one (attach), giving it back (release), cancel
// requests, and the once-a-second timeout sweep and graceful shutdown of the session.
#include <fmt/format.h>

#include "pooler/client_session.hpp"
#include "pooler/log.hpp"

namespace pgopt::pooler {

namespace proto = pgopt::protocol;

namespace {

// A reload changed where the server's database lives (host, port or dbname) while this server was
// busy: the reload dropped the idle ones, and this one must not be handed out either.
bool moved_by_reload(const Config& cfg, const ServerConn& s) {
  if (!s.pool || !s.pool->node.empty()) return false;  // a replica's pool is keyed by its address
  const DatabaseConfig* db = cfg.find_database(s.pool->database);
  if (!db) return false;
  const ServerTarget t = server_target(*db);
  return t.host != s.target.host || t.port != s.target.port || t.dbname != s.target.dbname;
}

}  // namespace

awaitable<void> ClientSession::send_cancel(std::shared_ptr<ClientSession> self, ServerPtr s) {
  auto exec = co_await asio::this_coro::executor;
  tcp::socket c(exec);
  error_code ec;
  tcp::endpoint ep(asio::ip::make_address(s->target.host, ec), uint16_t(s->target.port));
  if (ec) {
    tcp::resolver res(exec);
    auto [rec, eps] = co_await res.async_resolve(s->target.host, std::to_string(s->target.port), nothrow);
    if (!rec && !eps.empty()) ep = eps.begin()->endpoint();
  }
  auto [cec] = co_await c.async_connect(ep, nothrow);
  if (!cec) {
    std::string msg;
    proto::cancel_request(msg, s->backend_key);
    co_await asio::async_write(c, asio::buffer(msg), nothrow);
    // PostgreSQL closes the cancel connection once it has signalled the backend; waiting for
    // that keeps this server from being handed to another client before the signal lands.
    char b;
    asio::steady_timer t(exec, std::chrono::seconds(5));
    t.async_wait([&c](error_code e) {
      if (!e) c.close(e);
    });
    co_await c.async_read_some(asio::buffer(&b, 1), nothrow);
    t.cancel();
  }
  --s->cancels_in_flight;
  error_code ignored;
  if (self->server_ == s) s->sock.cancel(ignored);  // let server_loop re-check for release
}

// ---- attaching and releasing servers ------------------------------------------------------------

awaitable<ClientSession::AttachResult> ClientSession::attach(bool want_replica) {
  set_state(ClientState::Waiting);
  if (rt_.pauses.paused(database())) {
    // PAUSE/KILL from the admin console: no new server work until RESUME. Polled, since pauses are
    // rare and short, and a waiting client must still notice that it was disconnected.
    asio::steady_timer t(co_await asio::this_coro::executor);
    while (rt_.pauses.paused(database()) && !client_gone_ && state_ != ClientState::Closing) {
      t.expires_after(std::chrono::milliseconds(10));
      co_await t.async_wait(nothrow);
    }
    if (client_gone_ || state_ == ClientState::Closing) co_return AttachResult::Closed;
  }
  auto cfg = rt_.config();
  const DatabaseConfig* db = cfg->find_database(database());
  if (!db) db = db_;  // removed by a reload: existing clients keep their database
  PoolLimits limits{cfg->pool_size(*db), cfg->max_db_connections(*db), cfg->pooler.server_check_delay};
  ServerPtr s;
  // A replica that cannot be reached is banned and the choice made again: another replica, or the
  // primary (replica_fallback), so a dead replica costs a read no more than a failed connect.
  for (int attempt = 0; !s; ++attempt) {
    Pool* pool = pool_;
    int replica = -1;
    if (want_replica && awake_->split_) {
      ReplicaChoice c = choose_replica();
      if (c.index) {
        replica = *c.index;
        pool = &replica_pool(replica);
      } else if (!c.ryw_blocked && cfg->pooler.replica_fallback == ReplicaFallback::Error) {
        set_state(ClientState::Idle);
        co_return AttachResult::NoReplica;
      }
    }
    auto got = co_await pool->acquire(worker_.index, cfg->pooler.query_wait_timeout, limits);
    if (client_gone_) {
      if (got.server) pool->release(std::move(got.server));
      if (got.connect_needed) pool->slot_freed();
      co_return AttachResult::Closed;
    }
    if (!got.error.empty()) {
      disconnect(got.error, got.sqlstate, got.error);
      co_return AttachResult::Closed;
    }
    s = std::move(got.server);
    if (got.connect_needed) {
      ServerCredentials creds = server_credentials(rt_, *pool_);  // the primary pool knows the SCRAM keys
      ServerTarget target = server_target(*db);
      if (replica >= 0) {
        const auto& ep = awake_->split_->endpoints()[size_t(replica)];
        target.host = ep.host;
        target.port = ep.port;
      }
      auto lr = co_await connect_server(target, creds, cfg->pooler.server_connect_timeout,
                                        rt_.next_server_id.fetch_add(1, std::memory_order_relaxed));
      if (!lr.server) {
        pool->slot_freed();
        log::warn("{} {}", tag(), lr.error);
        if (replica >= 0 && attempt < 3 && !client_gone_) {
          if (awake_->split_->ban(replica, routing::SteadyClock::now()))
            log::warn("{} replica {}:{} cannot be reached: no reads for {} ms", tag(), target.host, target.port,
                      cfg->pooler.replica_ban_time.count());
          continue;
        }
        disconnect("server login failed", lr.sqlstate.empty() ? "08006" : lr.sqlstate, lr.error);
        co_return AttachResult::Closed;
      }
      s = std::move(lr.server);
      s->pool = pool;
      s->worker = worker_.index;
      pool->set_defaults(std::move(lr.parameters));
      log::info("{} opened server connection {}", tag(), s->describe());
      if (client_gone_) {
        pool->release(std::move(s));
        co_return AttachResult::Closed;
      }
    }
    if (replica >= 0) {
      s->replica_set = awake_->split_;
      s->replica_index = replica;
      s->lease();
    }
    const bool synced = s->synced_want && want_.is(s->synced_want) && s->state.is(s->synced_have);
    if (!want_.empty() && !synced) {
      std::string sql = sync_sql(want_, s->state);
      if (!sql.empty()) {
        auto r = co_await run_internal(*s, sql);
        if (!r.ok || r.status != 'I') {
          log::warn("{} could not restore session settings on {}: {}", tag(), s->describe(), r.error);
          s->pool->discard(s);
          if (r.broken && replica >= 0 && attempt < 3 && !client_gone_) {
            replica_failed(s, r.error);
            s.reset();
            continue;
          }
          disconnect("session settings could not be restored", "08006",
                     "could not restore session settings on a pooled connection: " + r.error);
          co_return AttachResult::Closed;
        }
        // The server's canonical spelling ("ISO, MDY" for "iso") is what the client has from now on.
        for (auto& [k, v] : r.parameters)
          if (const GucEntry* e = want_.find(k); e && !e->replayed) want_.set_reported(e->name, v);
        s->state.reset_all_replayed();
        for (const auto& [k, e] : want_.entries())
          if (e.replayed) s->state.set_replayed(e.name, e.value);
        want_.intern(rt_.gucs);
        sql = sync_sql(want_, s->state);  // empty unless the server did not take a setting as sent
      }
      if (sql.empty()) {
        s->synced_want = want_.handle();
        s->synced_have = s->state.handle();
      }
    }
  }
  if (prepared_) {
    prepared_->detach();
    awake_->prepared_capacity_ = size_t(std::max(1, cfg->pooler.max_prepared_statements));
  }
  s->last_client = id_;
  server_ = s;
  outstanding_ = unsynced_ = 0;
  awake_->copy_syncs_.reset();
  tx_status_ = 'I';
  tx_error_ = tx_rolled_back_ = false;
  set_state(ClientState::Active);
  co_return AttachResult::Ok;
}

awaitable<void> ClientSession::release(ServerPtr s) {
  s->unlease();
  Pool* pool = s->pool;
  auto cfg = rt_.config();
  std::string reset;
  if (mode_ == PoolMode::Session)
    reset = cfg->pooler.server_reset_query;
  else if (s->dirty)
    reset = "DISCARD ALL";
  if (!reset.empty()) {
    auto r = co_await run_internal(*s, reset);
    if (!r.ok || r.status != 'I') {
      log::warn("{} reset of {} failed ({}), closing it", tag(), s->describe(), r.error);
      pool->discard(s);
      co_return;
    }
    if (s->dirty) log::debug("{} reset {} ({})", tag(), s->describe(), s->dirty_reason);
    s->state.reset_all_replayed();
    s->statements.clear();  // DISCARD ALL (or the reset query) took its prepared statements
    s->dirty = false;
    s->dirty_reason.clear();
  }
  const bool too_old = cfg->pooler.server_lifetime.count() > 0 && Clock::now() - s->created > cfg->pooler.server_lifetime;
  if (too_old || rt_.shutting_down || !s->buf.empty() || moved_by_reload(*cfg, *s)) {
    pool->discard(s);
    co_return;
  }
  pool->release(std::move(s));
}

// ---- cancel, timeouts, shutdown -----------------------------------------------------------------

void ClientSession::forward_cancel() {
  ServerPtr s = server_;
  if (!s || (outstanding_ == 0 && unsynced_ == 0)) {
    log::debug("{} cancel request: no query running", tag());
    return;
  }
  log::info("{} forwarding cancel to {}", tag(), s->describe());
  ++s->cancels_in_flight;
  asio::co_spawn(executor(), send_cancel(shared_from_this(), s), asio::detached);
}

void ClientSession::check_timeouts(Clock::time_point now) {
  auto cfg = rt_.config();
  const auto& p = cfg->pooler;
  const auto idle_for = now - last_activity_;
  if (awake_ && state_ == ClientState::Idle && awake_->in_.empty() && now - last_activity_ > std::chrono::seconds(1)) {
    // An idle client keeps no buffers (awake_ is null once it is parked): its pending read
    // targets small_, never in_.
    awake_->in_.release();
    std::string().swap(awake_->out_);
    // Nor coroutine frames, once client_loop() is waiting for its next message (a plaintext
    // connection only: bytes OpenSSL has already read would never make the socket readable).
    if (reading_idle_ && !park_requested_ && !awake_->sock_.encrypted()) {
      park_requested_ = true;
      error_code ec;
      awake_->sock_.socket().cancel(ec);
    }
  }
  switch (state_) {
    case ClientState::Login:
      if (p.client_login_timeout.count() > 0 && idle_for > p.client_login_timeout)
        disconnect("client_login_timeout", "08006", "login timeout (client_login_timeout)");
      break;
    case ClientState::Idle:
      if (p.client_idle_timeout.count() > 0 && idle_for > p.client_idle_timeout)
        disconnect("client_idle_timeout", "57P05", "terminating connection due to idle timeout (client_idle_timeout)");
      break;
    case ClientState::Active:
      if (outstanding_ == 0 && unsynced_ == 0) {
        if (tx_status_ != 'I' && p.idle_transaction_timeout.count() > 0 && idle_for > p.idle_transaction_timeout)
          disconnect("idle_transaction_timeout", "25P03",
                     "terminating connection due to idle-in-transaction timeout (idle_transaction_timeout)");
        else if (tx_status_ == 'I' && p.client_idle_timeout.count() > 0 && idle_for > p.client_idle_timeout)
          disconnect("client_idle_timeout", "57P05",
                     "terminating connection due to idle timeout (client_idle_timeout)");
      }
      break;
    default:
      break;
  }
}

void ClientSession::shutdown_when_idle() {
  shutdown_requested_ = true;
  if (state_ == ClientState::Login || state_ == ClientState::Idle ||
      (state_ == ClientState::Active && mode_ == PoolMode::Session && releasable()))
    disconnect("shutting down", "57P01", "terminating connection: pgopt is shutting down");
}

}  // namespace pgopt::pooler
