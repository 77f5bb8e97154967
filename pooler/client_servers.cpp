// One client's server connections: getting one (attach), giving it back (release), cancel
// requests, and the once-a-second timeout sweep and graceful shutdown of the session.
#include <fmt/format.h>
#include <poll.h>
#include <fmt/ranges.h>

#include "pooler/client_session.hpp"
#include "pooler/log.hpp"
#include "pooler/spawn.hpp"
#include "pooler/session_check.hpp"

namespace pgopt::pooler {

namespace proto = pgopt::protocol;
using namespace asio::experimental::awaitable_operators;

namespace {

// Whether the peer closed its end (FIN, RST or an error) without reading what is pending.
bool peer_hung_up(int fd) {
  pollfd p{fd, POLLRDHUP, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

// A reload changed where the server's database lives (host, port or dbname) while this server was
// busy, or a failover moved the primary of a multi-host database away from it: the idle ones were
// dropped then, and this one must not be handed out either.
// `db`: the server's database in `cfg` when the caller knows it (else looked up by name).
bool moved_by_reload(const Runtime& rt, const Config& cfg, const ServerConn& s, const DatabaseConfig* db) {
  if (!s.pool || !s.pool->node.empty()) return false;  // a replica's pool is keyed by its address
  if (!db) db = cfg.find_database(s.pool->database);
  if (!db) return false;
  if (!db->hosts.empty()) return off_primary(rt, *db, s.target);
  const ServerTarget t = server_target(*db);
  return t.host != s.target.host || t.port != s.target.port || t.dbname != s.target.dbname;
}

}  // namespace

awaitable<void> ClientSession::send_cancel(std::shared_ptr<ClientSession> self, ServerPtr s) {
  auto exec = co_await asio::this_coro::executor;
  auto deliver = [&]() -> awaitable<void> {
    tcp::socket c(exec);
    error_code ec;
    tcp::endpoint ep(asio::ip::make_address(s->target.host, ec), uint16_t(s->target.port));
    if (ec) {
      tcp::resolver res(exec);
      auto [rec, eps] = co_await res.async_resolve(s->target.host, std::to_string(s->target.port), nothrow);
      if (rec || eps.empty()) co_return;
      ep = eps.begin()->endpoint();
    }
    auto [cec] = co_await c.async_connect(ep, nothrow);
    if (cec) co_return;
    std::string msg;
    proto::cancel_request(msg, s->backend_key);
    co_await asio::async_write(c, asio::buffer(msg), nothrow);
    // PostgreSQL closes the cancel connection once it has signalled the backend; waiting for
    // that keeps this server from being handed to another client before the signal lands.
    char b;
    co_await c.async_read_some(asio::buffer(&b, 1), nothrow);
  };
  // Both operations live in this frame: whichever finishes first cancels the other, and nothing
  // outlives the coroutine (a timer callback holding a reference to the socket once did).
  asio::steady_timer limit(exec, std::chrono::seconds(5));
  co_await (deliver() || limit.async_wait(nothrow));
  if (--s->cancels_in_flight == 0 && s->cancels_done) s->cancels_done->cancel();
  error_code ignored;
  if (self->server_ == s) s->sock.cancel(ignored);  // let server_loop re-check for release
}

// ---- attaching and releasing servers ------------------------------------------------------------

void hangup_waiting_client(void* session) { static_cast<ClientSession*>(session)->hung_up_while_waiting(); }

void ClientSession::stop_hangup_watch() {
  if (!awake_) return;
  if (awake_->waits_.queued.hangup_watched) worker_.hangups.remove(awake_->io_.sock.socket().native_handle());
  awake_->waits_.queued.hangup_watched = false;
  awake_->waits_.queued.ticket = nullptr;
}

void ClientSession::hung_up_while_waiting() {
  if (!awake_ || !awake_->waits_.queued.ticket) return;
  Pool::WaitTicket* ticket = awake_->waits_.queued.ticket;
  stop_hangup_watch();
  ticket->give_up();
  disconnect("client closed the connection while waiting for a server");
}

awaitable<Pool::Acquired> ClientSession::acquire_from(Pool& pool, std::chrono::milliseconds wait_timeout,
                                                       const PoolLimits& limits) {
  Pool::WaitTicket ticket;
  ticket.on_queued = [this] {
    // Queued: watch the socket for a hang-up meanwhile (not for bytes: a pipelining client's next
    // messages stay in the socket until a server is there).
    awake_->waits_.queued.hangup_watched = worker_.hangups.add(awake_->io_.sock.socket().native_handle(), this);
  };
  awake_->waits_.queued.ticket = &ticket;
  auto got = co_await pool.acquire(worker_.index, wait_timeout, limits, &ticket);
  stop_hangup_watch();
  // A client that closed in the moment before its turn: nothing it sent goes to the server.
  if (got.waited && !gone() && peer_hung_up(awake_->io_.sock.socket().native_handle()))
    disconnect("client closed the connection while waiting for a server");
  co_return got;
}

awaitable<void> ClientSession::look_up_code_reach(Pool& pool, ServerConn& s) {
  // What the database can run without a statement naming it decides what the relay may trust
  // statement texts for (note_session_effects), and which custom settings the check asks for.
  auto cr = co_await run_internal(s, code_reach_sql());
  pool.set_code_reach(cr.ok ? parse_code_reach(cr.row) : CodeReach::Unknown, Clock::now());
  if (!cr.ok) {
    log::warn("{} could not look up user code on {}: {}", tag(), s.describe(), cr.error);
    co_return;
  }
  pool.learn_custom_names(parse_code_reach_names(cr.row));
  log::debug("{} code statements can run unnamed on {}: {}", tag(), database(), to_string(pool.code_reach()));
}

// PAUSE/KILL from the admin console: no new server work until RESUME. The client sleeps on its
// settle timer (wait_notified), woken by RESUME through Pauses::wake_on_resume (posted to this
// worker) or by its own disconnect (notify_settled), and looks again. False: the client is gone or
// closing.
awaitable<bool> ClientSession::wait_while_paused() {
  if (!rt_.pauses.paused(database())) co_return true;  // one atomic load while nothing is paused
  while (!gone()) {
    auto wake = [weak = weak_from_this(), exec = executor()] {
      asio::post(exec, [weak] {
        auto self = weak.lock();
        if (self && self->awake_) self->notify_settled();  // a stale wake-up only makes a waiter look again
      });
    };
    if (!rt_.pauses.wake_on_resume(database(), std::move(wake))) break;
    co_await wait_notified();
  }
  co_return !gone();
}

awaitable<ClientSession::AttachResult> ClientSession::attach(bool want_replica) {
  const bool at_login = state_ == ClientState::Login;
  set_state(ClientState::Waiting);
  // The checks below that usually find nothing to do are made here, without entering the
  // coroutine that would wait (each entry costs a frame and a resumption per transaction).
  if (rt_.pauses.paused(database()) && !co_await wait_while_paused()) co_return AttachResult::Closed;
  auto cfg = rt_.config();
  const DatabaseConfig* db = &current_db(cfg);
  PoolLimits limits{cfg->pool_size(*db), cfg->max_db_connections(*db), cfg->pooler.server_check_delay};
  ServerPtr s;
  // A multi-host database's primary may be moving (failover.hpp): the whole attach waits for it at
  // most failover_wait_timeout, across retries.
  const auto failover_deadline = Clock::now() + cfg->pooler.failover_wait_timeout;
  // A replica that cannot be reached is banned and the choice made again: another replica, or the
  // primary (replica_fallback), so a dead replica costs a read no more than a failed connect.
  for (int attempt = 0; !s; ++attempt) {
    AttachTry at{binding_.pool, -1, std::nullopt, attempt, failover_deadline};
    if (want_replica && awake_->split_.active()) {
      const SplitPlanner::ReplicaChoice c = awake_->split_.choose_replica(routing::SteadyClock::now());
      if (c.index) {
        at.replica = *c.index;
        at.pool = &replica_pool(at.replica);
      } else if (!c.ryw_blocked && cfg->pooler.replica_fallback == ReplicaFallback::Error) {
        set_state(ClientState::Idle);
        co_return AttachResult::NoReplica;
      }
    }
    if (at.replica < 0 && !db->hosts.empty()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(failover_deadline - Clock::now());
      auto w = co_await await_primary(rt_, *db, std::max(std::chrono::milliseconds(0), left),
                                      [this] { return gone(); });
      if (w.outcome == PrimaryWait::Outcome::Gone) co_return AttachResult::Closed;
      if (w.outcome != PrimaryWait::Outcome::Ready) {
        disconnect(w.message, w.sqlstate, w.message);
        co_return AttachResult::Closed;
      }
      at.primary = std::move(w.target);
    }
    // Not `now ? std::move(*now) : co_await ...`: built by GCC 12, that form crashed at the first query
    // (co_await inside a conditional expression is a known weak spot of GCC's coroutines).
    std::optional<Pool::Acquired> now = at.pool->try_acquire(worker_.index, executor(), limits);
    if (!now) now = co_await acquire_from(*at.pool, cfg->pooler.query_wait_timeout, limits);
    Pool::Acquired& got = *now;
    if (gone()) {  // a granted slot goes back with `got`
      if (got.server) at.pool->release(std::move(got.server));
      co_return AttachResult::Closed;
    }
    if (!got.error.empty()) {
      disconnect(got.error, got.sqlstate, got.error);
      co_return AttachResult::Closed;
    }
    s = std::move(got.server);
    if (s && at.primary && off_primary(rt_, *db, s->target)) {  // pooled before the primary moved
      at.pool->discard(s);
      s.reset();
      continue;
    }
    if (got.slot) {
      const AttachStep step = co_await open_server(at, *cfg, *db, std::move(got.slot), s);
      if (step == AttachStep::Closed) co_return AttachResult::Closed;
      if (step == AttachStep::Again) continue;
    }
    if (at.replica >= 0) {
      s->replica_set = awake_->split_.replicas();
      s->replica_index = at.replica;
      s->lease();
    }
    if (!settings_in_sync(*s)) {
      const AttachStep step = co_await restore_settings(at, at_login, s);
      if (step == AttachStep::Closed) co_return AttachResult::Closed;
    }
  }
  attached(std::move(s), *cfg);
  co_return AttachResult::Ok;
}

const DatabaseConfig& ClientSession::current_db(const std::shared_ptr<const Config>& cfg) const {
  // The login's snapshot while no reload came since (the common case: no lookup by name).
  const DatabaseConfig* db = cfg == binding_.config ? binding_.db : cfg->find_database(database());
  return db ? *db : *binding_.db;  // removed by a reload: existing clients keep their database
}

bool ClientSession::attach_now(bool want_replica) {
  if (want_replica && awake_->split_.active()) return false;
  if (rt_.pauses.paused(database())) return false;
  auto cfg = rt_.config();
  const DatabaseConfig& db = current_db(cfg);
  if (!db.hosts.empty()) return false;  // a multi-host database: the primary may be moving
  const PoolLimits limits{cfg->pool_size(db), cfg->max_db_connections(db), cfg->pooler.server_check_delay};
  ServerPtr s = binding_.pool->try_take_idle(worker_.index, executor(), limits);
  if (!s) return false;
  if (!settings_in_sync(*s)) {
    binding_.pool->release(std::move(s));  // attach() takes one again and restores the settings
    return false;
  }
  attached(std::move(s), *cfg);
  return true;
}

void ClientSession::attached(ServerPtr s, const Config& cfg) {
  if (prepared_) {
    prepared_->detach();
    awake_->batch_.statement_capacity = size_t(std::max(1, cfg.pooler.max_prepared_statements));
  }
  if (!s->statements.watching()) s->statements.watch(rt_.statements.schema_epoch(s->target.dbname));
  s->last_client = ident_.id;
  server_ = std::move(s);
  awake_->tx_.start();
  set_state(ClientState::Active);
}

// A new connection for the slot acquire_from() granted (at.pool counts it until the connection
// takes it over, or `slot` frees it on any other way out): Done with `s` set, Again to choose
// again (a replica that cannot be reached is banned; a primary that went away is waited for), or
// Closed.
awaitable<ClientSession::AttachStep> ClientSession::open_server(const AttachTry& at, const Config& cfg,
                                                                const DatabaseConfig& db, SlotLease slot,
                                                                ServerPtr& s) {
  Pool* pool = at.pool;
  ServerCredentials creds = server_credentials(rt_, *binding_.pool);  // the primary pool knows the SCRAM keys
  ServerTarget target = at.primary ? *at.primary : server_target(db);
  if (at.replica >= 0) {
    const auto& ep = awake_->split_.replicas()->endpoints()[size_t(at.replica)];
    target.host = ep.host;
    target.port = ep.port;
  }
  auto lr = co_await connect_server(target, creds, cfg.pooler.server_connect_timeout,
                                    rt_.next_server_id.fetch_add(1, std::memory_order_relaxed));
  if (lr.server && at.primary && login_says_standby(lr.parameters)) {  // demoted since the last probe
    lr.server->close();
    lr.server.reset();
    lr.error = fmt::format("server {}:{} is no longer the primary (in_hot_standby)", target.host, target.port);
  }
  if (!lr.server && at.primary && Clock::now() < at.failover_deadline && !gone()) {
    // The primary went away since the last probe: probe now, and wait for its successor (without
    // holding the slot: others may get a connection meanwhile).
    slot.reset();
    log::warn("{} {}; waiting for the primary of {}", tag(), lr.error, database());
    co_await primary_lost(rt_, database());
    co_return AttachStep::Again;
  }
  if (!lr.server) {  // `slot` frees the slot as this returns, before attach tries again
    log::warn("{} {}", tag(), lr.error);
    if (at.replica >= 0 && at.attempt < 3 && !gone()) {
      if (awake_->split_.replicas()->ban(at.replica, routing::SteadyClock::now()))
        log::warn("{} replica {}:{} cannot be reached: no reads for {} ms", tag(), target.host, target.port,
                  cfg.pooler.replica_ban_time.count());
      co_return AttachStep::Again;
    }
    disconnect("server login failed", lr.sqlstate.empty() ? "08006" : lr.sqlstate, lr.error);
    co_return AttachStep::Closed;
  }
  s = std::move(lr.server);
  slot.hand_over(*s);
  s->worker = worker_.index;
  pool->set_defaults(std::move(lr.parameters));
  log::info("{} opened server connection {}", tag(), s->describe());
  if (pool->code_reach_due(Clock::now())) co_await look_up_code_reach(*pool, *s);
  if (gone()) {
    pool->release(std::move(s));
    co_return AttachStep::Closed;
  }
  co_return AttachStep::Done;
}

bool ClientSession::settings_in_sync(const ServerConn& s) const {
  return want_.empty() || (s.synced_want && want_.is(s.synced_want) && s.state.is(s.synced_have));
}

// The client's session settings made true on `s` (skipped when `s` was last synced to exactly these):
// Done, Again with `s` reset (a replica or a pooled primary that died before anything was sent), or
// Closed (the settings could not be restored; the server is discarded).
awaitable<ClientSession::AttachStep> ClientSession::restore_settings(const AttachTry& at, bool at_login, ServerPtr& s) {
  if (settings_in_sync(*s)) co_return AttachStep::Done;
  std::string sql = sync_sql(want_, s->state);
  if (!sql.empty()) {
    auto r = co_await run_internal(*s, sql);
    if (!r.ok || r.status != 'I') {
      log::warn("{} could not restore session settings on {}: {}", tag(), s->describe(), r.error);
      s->pool->discard(s);
      if (r.broken && at.replica >= 0 && at.attempt < 3 && !gone()) {
        replica_failed(s, r.error);
        s.reset();
        co_return AttachStep::Again;
      }
      if (r.broken && at.primary && at.attempt < 3 && !gone()) {  // a pooled primary died (failover): nothing sent yet
        co_await primary_lost(rt_, database());
        s.reset();
        co_return AttachStep::Again;
      }
      if (at_login && !r.sqlstate.empty())  // a startup setting the server refuses, in its words
        disconnect("startup setting refused: " + r.error, r.sqlstate, r.error);
      else
        disconnect("session settings could not be restored", "08006",
                   "could not restore session settings on a pooled connection: " + r.error);
      co_return AttachStep::Closed;
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
  co_return AttachStep::Done;
}

awaitable<bool> ClientSession::check_session(ServerConn& s) {
  // The custom settings to ask for: the client's own and those the database is known to set.
  std::vector<std::string> names = s.pool->custom_names();
  for (const auto& [key, e] : want_.entries())
    if (e.replayed && key.find('.') != std::string::npos && std::find(names.begin(), names.end(), key) == names.end())
      names.push_back(key);
  auto r = co_await run_internal(s, session_check_sql(names));
  if (r.broken) {
    log::warn("{} session check of {} failed ({}), closing it", tag(), s.describe(), r.error);
    co_return false;
  }
  std::optional<SessionFacts> facts;
  if (r.ok && r.status == 'I') facts = parse_session_facts(r.row, names);
  const std::string why = std::exchange(s.residue_reason, {});
  s.residue = ServerConn::Residue::Clean;
  rt_.session_checks.fetch_add(1, std::memory_order_relaxed);
  if (!facts) {
    s.need_reset("its session check did not answer as expected" + (r.error.empty() ? "" : ": " + r.error));
    log::warn("{} session check of {} after {}: {}", tag(), s.describe(), why, s.residue_reason);
    co_return true;
  }
  CarryResult carried = carry_session(*facts, want_, s.pool->user, s.statements.size());
  want_.intern(rt_.gucs);
  // The check ended with RESET ALL: the server has no replayed setting left but the role, which
  // RESET ALL keeps (the next client's sync resets it). Reported ones came back as ParameterStatus.
  s.state.reset_all_replayed();
  if (facts->current_user != facts->session_user) s.state.set_replayed("role", set_role_sql(facts->current_user));
  if (!carried.reset_reason.empty()) s.need_reset(carried.reset_reason);
  const std::string what = fmt::format("{}", fmt::join(carried.carried, ", "));
  log::info("{} session check of {} after {}: {}{}", tag(), s.describe(), why,
            carried.carried.empty() ? std::string("settings as expected") : "carried " + what,
            carried.reset_reason.empty() ? std::string() : ", reset for " + carried.reset_reason);
  co_return true;
}

bool ClientSession::release_talks(const ServerConn& s, const Config& cfg) const {
  if (s.residue != ServerConn::Residue::Clean) return true;  // a session check or DISCARD ALL
  return (mode_ == PoolMode::Session || cfg.pooler.server_reset_query_always) && !cfg.pooler.server_reset_query.empty();
}

bool ClientSession::release_now(ServerPtr& s) {
  auto cfg = rt_.config();
  if (release_talks(*s, *cfg)) return false;
  s->unlease();
  give_back(std::move(s), *cfg);
  return true;
}

void ClientSession::give_back(ServerPtr s, const Config& cfg) {
  Pool* pool = s->pool;
  const bool too_old = cfg.pooler.server_lifetime.count() > 0 && Clock::now() - s->created > cfg.pooler.server_lifetime;
  const DatabaseConfig* known = &cfg == binding_.config.get() && pool == binding_.pool ? binding_.db : nullptr;
  if (too_old || rt_.shutting_down || !s->buf.empty() || moved_by_reload(rt_, cfg, *s, known)) {
    pool->discard(s);
    return;
  }
  pool->release(std::move(s));
}

awaitable<void> ClientSession::release(ServerPtr s) {
  s->unlease();
  Pool* pool = s->pool;
  auto cfg = rt_.config();
  if (s->residue == ServerConn::Residue::Check) {
    if (gone()) {
      s->need_reset("its client left after " + s->residue_reason);  // nobody to carry state to
    } else if (!co_await check_session(*s)) {
      pool->discard(s);
      co_return;
    }
  }
  // State that cannot be carried is reset with DISCARD ALL whatever the reset query says.
  std::string reset;
  if (s->residue == ServerConn::Residue::Reset)
    reset = "DISCARD ALL";
  else if (mode_ == PoolMode::Session || cfg->pooler.server_reset_query_always)
    reset = cfg->pooler.server_reset_query;
  if (!reset.empty()) {
    auto r = co_await run_internal(*s, reset);
    if (!r.ok || r.status != 'I') {
      log::warn("{} reset of {} failed ({}), closing it", tag(), s->describe(), r.error);
      pool->discard(s);
      co_return;
    }
    if (s->residue == ServerConn::Residue::Reset) log::debug("{} reset {} ({})", tag(), s->describe(), s->residue_reason);
    s->state.reset_all_replayed();
    s->statements.clear();  // DISCARD ALL (or the reset query) took its prepared statements
    s->residue = ServerConn::Residue::Clean;
    s->residue_reason.clear();
  }
  give_back(std::move(s), *cfg);
}

// ---- cancel, timeouts, shutdown -----------------------------------------------------------------

void ClientSession::forward_cancel() {
  ServerPtr s = server_;
  if (!s || !awake_->tx_.busy()) {
    log::debug("{} cancel request: no query running", tag());
    return;
  }
  log::info("{} forwarding cancel to {}", tag(), s->describe());
  ++s->cancels_in_flight;
  spawn(executor(), send_cancel(shared_from_this(), s), "cancel forwarding");
}

void ClientSession::check_timeouts(Clock::time_point now) {
  auto cfg = rt_.config();
  const auto& p = cfg->pooler;
  const auto idle_for = now - last_activity_;
  if (awake_ && state_ == ClientState::Idle && awake_->io_.in.empty() && now - last_activity_ > std::chrono::seconds(1)) {
    // An idle client keeps no buffers (awake_ is null once it is parked): its pending read
    // targets io_.small, never io_.in.
    awake_->io_.in.release();
    std::string().swap(awake_->io_.out);
    // Nor coroutine frames, once client_loop() is waiting for its next message (a plaintext
    // connection only: bytes OpenSSL has already read would never make the socket readable).
    if (parking_.read == Parking::Read::Idle && !awake_->io_.sock.encrypted()) {
      parking_.read = Parking::Read::ParkRequested;
      error_code ec;
      awake_->io_.sock.socket().cancel(ec);
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
      if (!awake_->tx_.busy()) {
        const bool in_transaction = awake_->tx_.status() != session::TxStatus::Idle;
        if (in_transaction && p.idle_transaction_timeout.count() > 0 && idle_for > p.idle_transaction_timeout)
          disconnect("idle_transaction_timeout", "25P03",
                     "terminating connection due to idle-in-transaction timeout (idle_transaction_timeout)");
        else if (!in_transaction && p.client_idle_timeout.count() > 0 && idle_for > p.client_idle_timeout)
          disconnect("client_idle_timeout", "57P05",
                     "terminating connection due to idle timeout (client_idle_timeout)");
      }
      break;
    default:
      break;
  }
}

void ClientSession::shutdown_when_idle() {
  leaving_ = Leaving::Drain;
  if (state_ == ClientState::Login || state_ == ClientState::Idle ||
      (state_ == ClientState::Active && mode_ == PoolMode::Session && awake_->tx_.releasable()))
    disconnect("shutting down", "57P01", "terminating connection: pgopt is shutting down");
}

}  // namespace pgopt::pooler
