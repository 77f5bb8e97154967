// The running pooler: workers, the listener, signals (reload, graceful shutdown) and the sweeper.
#include "pooler/daemon.hpp"

#include <fmt/format.h>

#include <csignal>

#include <malloc.h>

#include "pooler/ops/capture_collect.hpp"
#include "pooler/ops/metrics_gather.hpp"
#include "pooler/change_stream.hpp"
#include "pooler/client_session.hpp"
#include "pooler/log.hpp"
#include "pooler/spawn.hpp"
#include "pooler/metrics/endpoint.hpp"
#include "pooler/service_notify.hpp"
#include "pooler/slab.hpp"

// jemalloc's control interface when the executable links it (CMakeLists.txt), null otherwise: a weak
// reference, so the library does not depend on which allocator the executable chose.
extern "C" int mallctl(const char* name, void* oldp, size_t* oldlenp, void* newp, size_t newlen)
    __attribute__((weak));

namespace pgopt::pooler {

LoadedConfig load_all(const std::string& path) {
  LoadedConfig out;
  auto cr = load_config(path);
  for (const auto& e : cr.errors) out.errors.push_back(e.to_string());
  if (!cr.config) return out;
  auto users = std::make_shared<auth::UserList>();
  if (!cr.config->pooler.auth_file.empty()) {
    auto ur = auth::load_userlist(cr.config->pooler.auth_file);
    for (auto& e : ur.errors) out.errors.push_back(e);
    if (!ur.list) return out;
    *users = std::move(*ur.list);
  }
  // Certificates and keys are read here, so a bad file fails startup, check-config and a reload
  // (which then keeps the running config) alike.
  auto built = tls::Contexts::build(cr.config->pooler);
  if (!built.contexts) {
    for (auto& e : built.errors) out.errors.push_back(cr.config->path + ": " + e);
    return out;
  }
  out.tls = std::move(built.contexts);
  out.config = cr.config;
  out.users = std::move(users);
  return out;
}

Daemon::Daemon(LoadedConfig loaded, DaemonOptions options)
    : path_(loaded.config->path), rt_(loaded.config->pooler.workers), options_(std::move(options)) {
  rt_.set_config(loaded.config);
  rt_.set_users(loaded.users);
  rt_.large_messages.set_limit(loaded.config->pooler.large_message_memory);
  rt_.client_table.set_peer_id(loaded.config->pooler.peer_id);
  tls::install(loaded.tls);
  log::set_level(loaded.config->pooler.log_level);
  for (int i = 0; i < loaded.config->pooler.workers; ++i) rt_.workers.push_back(std::make_unique<Worker>(i, rt_.client_table));
  ops::configure_capture(rt_, loaded.config->pooler);
  rt_.main = main_.get_executor();
  rt_.reload = [this] { return reload(); };
  rt_.apply = [this](std::shared_ptr<const Config> c) { apply(std::move(c), rt_.users()); };
}

void Daemon::for_each_client(const std::function<void(const std::shared_ptr<ClientSession>&)>& fn) {
  for (auto& w : rt_.workers) {
    auto live = w->clients();
    // Sessions are single-threaded: touch each only on its own worker.
    for (auto& c : live) asio::post(w->ctx, [c, fn] { fn(c); });
  }
}

namespace {
// The owner travels as a coroutine parameter: a lambda's captures would die with the lambda object
// while the coroutine still runs.
awaitable<void> run_session(std::shared_ptr<ClientSession> session) { co_await session->run(); }
}  // namespace

awaitable<void> Daemon::accept_loop(tcp::acceptor& acceptor) {
  size_t next = 0;
  for (;;) {
    Worker& w = *rt_.workers[next++ % rt_.workers.size()];
    // The socket is created on the target worker's io_context, so the session never migrates.
    auto [ec, sock] = co_await acceptor.async_accept(w.ctx, nothrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      log::warn("accept failed: {}", ec.message());
      if (ec == asio::error::no_descriptors) {
        asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(100));
        co_await t.async_wait(nothrow);
      }
      continue;
    }
    uint64_t id = rt_.next_client_id.fetch_add(1, std::memory_order_relaxed);
    auto session = std::allocate_shared<ClientSession>(SlabAllocator<ClientSession>(), rt_, w, std::move(sock), id);
    spawn(w.ctx, run_session(std::move(session)), "client session");
  }
}

awaitable<void> Daemon::sweep_loop(Worker& w) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  while (!rt_.shutting_down) {
    t.expires_after(std::chrono::seconds(1));
    co_await t.async_wait(nothrow);
    auto now = Clock::now();
    auto live = w.clients();
    for (auto& c : live) c->check_timeouts(now);
    // Parked clients gave their coroutine frames back to malloc, which keeps freed memory for
    // reuse; after many at once (a burst of logins going idle), return it to the system so the
    // RSS an operator watches shows what idle clients really cost. jemalloc's background thread
    // would do it too, but only once the pages have been unused for its decay time (10 s).
    if (w.parked_since_trim >= 256) {
      w.parked_since_trim = 0;
      if (mallctl)
        mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);  // 4096: MALLCTL_ARENAS_ALL
      else
        ::malloc_trim(0);
    }
    if (w.index == 0) rt_.gucs.sweep();
    auto cfg = rt_.config();
    for (Pool* p : rt_.pools.all()) {
      const DatabaseConfig* db = cfg->find_database(p->database);
      // min_pool_size is the primary's: replica pools fill on demand (reads may not go there at all).
      int keep = db && p->node.empty() ? cfg->min_pool_size(*db) : 0;
      // Worker 0 alone tops pools up to min_pool_size, so workers never race to over-fill one.
      // A paused database (admin PAUSE/KILL) opens nothing until RESUME.
      // A multi-host database without a primary right now (failover.hpp) waits for the next sweep.
      const auto target = db ? primary_target(rt_, *db) : std::nullopt;
      if (w.index == 0 && db && target && keep > 0 && !rt_.shutting_down && !rt_.pauses.paused(p->database)) {
        for (SlotLease& slot : p->reserve_to_min(keep, PoolLimits{cfg->pool_size(*db), cfg->max_db_connections(*db)}))
          spawn(w.ctx,
                warm_up(w.index, std::move(slot), *target, server_credentials(rt_, *p),
                        cfg->pooler.server_connect_timeout),
                "min_pool_size connect");
      }
      for (auto& s : p->take_expired(w.index, now, cfg->pooler.server_idle_timeout, cfg->pooler.server_lifetime, keep)) {
        log::debug("closing idle server {}", s->describe());
        p->discard(s);
      }
    }
  }
}

awaitable<void> Daemon::warm_up(int worker, SlotLease slot, ServerTarget target, ServerCredentials creds,
                                std::chrono::milliseconds timeout) {
  Pool* p = slot.pool();
  auto lr = co_await connect_server(target, creds, timeout, rt_.next_server_id.fetch_add(1, std::memory_order_relaxed));
  if (!lr.server) {  // the slot goes back with `slot`
    log::warn("{}/{}: min_pool_size connection failed: {}", p->database, p->user, lr.error);
    co_return;
  }
  slot.hand_over(*lr.server);
  lr.server->worker = worker;
  p->set_defaults(std::move(lr.parameters));
  log::info("{}/{}: opened server connection {} (min_pool_size)", p->database, p->user, lr.server->describe());
  p->release(std::move(lr.server));
}

void Daemon::start_pollers(const Config& cfg) {
  for (auto& [name, set] : rt_.splits.update(cfg)) spawn(main_, poll_replicas(rt_, name, set), "replica poller");
  for (auto& [name, c] : rt_.failover.update(cfg)) spawn(main_, probe_cluster(rt_, name, c), "failover prober");
  start_change_streams(cfg);
}

// `[cache] invalidation = "logical"`: one change stream per database, started once (a database a
// reload adds gets its own). The gate is set before the first session can fill: watched databases
// serve nothing until their stream is up.
void Daemon::start_change_streams(const Config& cfg) {
  if (!cfg.cache.enabled || cfg.cache.invalidation != CacheInvalidation::Logical) return;
  auto rc = rt_.result_cache(cfg.cache);
  for (const auto& [name, db] : cfg.databases) {
    if (!change_streams_.insert(name).second) continue;
    rc->store.watch_stream(name);
    spawn(main_, run_change_stream(rt_, name, rc), "a result cache change stream");
  }
}

std::vector<std::string> Daemon::reload() {
  log::info("SIGHUP: reloading {}", path_);
  service::reloading();
  auto loaded = load_all(path_);
  if (!loaded.config) {
    for (auto& e : loaded.errors) log::error("{}", e);
    log::error("reload failed: keeping the running configuration");
    service::reloaded("reload failed: running the previous configuration");
    return loaded.errors;
  }
  tls::install(loaded.tls);  // certificates re-read even when the file names did not change
  apply(loaded.config, loaded.users);
  log::info("configuration reloaded: {} database(s)", loaded.config->databases.size());
  service::reloaded("configuration reloaded");
  return {};
}

void Daemon::apply(std::shared_ptr<const Config> config, std::shared_ptr<const auth::UserList> users) {
  auto old = rt_.config();
  std::string restart_only;
  for (const std::string& key : changed_keys(*old, *config)) {
    if (reloadable(key)) continue;
    restart_only += (restart_only.empty() ? "" : ", ") + key.substr(key.find('.') + 1);
  }
  if (!restart_only.empty()) log::warn("{} changes take effect after a restart", restart_only);
  // Servers of a database whose address changed must not be reused.
  for (Pool* p : rt_.pools.all()) {
    if (!p->node.empty()) continue;  // a replica's pool is keyed by its address: a new address, a new pool
    const auto* before = old->find_database(p->database);
    const auto* after = config->find_database(p->database);
    if (before && after &&
        (before->host != after->host || before->port != after->port || before->dbname != after->dbname)) {
      for (auto& s : p->take_all_idle()) p->discard(s);
    }
  }
  // An admin SET of a TLS key: the reload path has installed contexts for this config already.
  if (auto cur = tls::current(); !cur || !cur->built_from(config->pooler)) {
    auto built = tls::Contexts::build(config->pooler);
    for (auto& e : built.errors) log::error("{} (TLS keeps the previous certificates)", e);
    if (built.contexts) tls::install(built.contexts);
  }
  rt_.set_config(config);
  rt_.set_users(users);
  rt_.large_messages.set_limit(config->pooler.large_message_memory);
  ops::configure_capture(rt_, config->pooler);
  start_pollers(*config);
  log::set_level(config->pooler.log_level);
}

awaitable<void> Daemon::shutdown(ShutdownKind kind) {
  if (rt_.shutting_down) co_return;  // a SIGTERM during a handover's shutdown, or the reverse
  auto cfg = rt_.config();
  log::info("shutting down: no new connections; waiting up to {} ms for transactions to finish",
            cfg->pooler.shutdown_timeout.count());
  service::stopping();
  rt_.shutting_down = true;
  rt_.splits.retire_all();
  rt_.failover.retire_all();
  error_code ec;
  for (auto& a : acceptors_) a->close(ec);  // shutdown() runs on main_, like accept_loop()
  for (Pool* p : rt_.pools.all()) p->fail_waiters("57P01", "pgopt is shutting down");
  if (kind == ShutdownKind::Move)
    for_each_client([](const auto& c) { c->move_when_idle(); });
  else
    for_each_client([](const auto& c) { c->shutdown_when_idle(); });
  asio::steady_timer t(main_);
  auto deadline = Clock::now() + cfg->pooler.shutdown_timeout;
  while (rt_.clients.load() > 0 && Clock::now() < deadline) {
    t.expires_after(std::chrono::milliseconds(50));
    co_await t.async_wait(nothrow);
  }
  if (rt_.clients.load() > 0) {
    log::warn("shutdown_timeout reached with {} client(s) still connected: closing them", rt_.clients.load());
    for_each_client([](const auto& c) {
      c->disconnect("shutdown_timeout reached", "57P01", "terminating connection: pgopt is shutting down");
    });
    auto hard = Clock::now() + std::chrono::seconds(2);
    while (rt_.clients.load() > 0 && Clock::now() < hard) {
      t.expires_after(std::chrono::milliseconds(20));
      co_await t.async_wait(nothrow);
    }
  }
  if (handover_) handover_->finish();
  co_await ops::write_capture_file(rt_);  // the last one, while the workers still run
  for (auto& w : rt_.workers) w->ctx.stop();
}

awaitable<void> Daemon::signal_loop(asio::signal_set& signals) {
  for (;;) {
    auto [ec, sig] = co_await signals.async_wait(nothrow);
    if (ec) co_return;
    if (sig == SIGHUP) {
      reload();
      continue;
    }
    log::info("received {}", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    co_await shutdown();
    main_.stop();
    co_return;
  }
}

awaitable<void> Daemon::handover_loop() {
  std::vector<int> fds;
  for (auto& a : acceptors_) fds.push_back(a->native_handle());
  if (!co_await handover_->wait_for_successor(main_, fds, rt_.client_table)) co_return;
  // The successor has its own descriptors of these sockets: closing ours loses no queued connection.
  error_code ec;
  for (auto& a : acceptors_) a->close(ec);
  rt_.handover = handover_.get();
  co_await shutdown(ShutdownKind::Move);
  main_.stop();
}

bool Daemon::adopt_listeners(const std::vector<int>& fds) {
  for (int fd : fds) {
    sockaddr_storage local{};
    socklen_t len = sizeof local;
    error_code ec;
    auto a = std::make_unique<tcp::acceptor>(main_);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0)
      a->assign(local.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), fd, ec);
    else
      ec = error_code(errno, asio::error::get_system_category());
    if (ec) {
      log::error("takeover: a listening socket from the old process cannot be used: {}", ec.message());
      ::close(fd);
      continue;
    }
    auto ep = a->local_endpoint(ec);
    log::info("takeover: listening on {}:{} (the old process's socket)", ep.address().to_string(), ep.port());
    acceptors_.push_back(std::move(a));
  }
  return !acceptors_.empty();
}

void Daemon::open_listeners(const Config& cfg) {
  using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
  auto open = [this](const std::string& host, int port, bool shared) {
    try {
      tcp::endpoint ep(asio::ip::make_address(host), uint16_t(port));
      auto a = std::make_unique<tcp::acceptor>(main_);
      a->open(ep.protocol());
      a->set_option(tcp::acceptor::reuse_address(true));
      if (shared) a->set_option(reuse_port(true));
      a->bind(ep);
      a->listen(asio::socket_base::max_listen_connections);
      acceptors_.push_back(std::move(a));
    } catch (const std::exception& e) {
      throw std::runtime_error(fmt::format("cannot listen on {}:{}: {}", host, port, e.what()));
    }
  };
  open(cfg.pooler.listen_addr, cfg.pooler.listen_port, cfg.pooler.so_reuseport);
  // Peers forward cancels to this address, so it must reach this process and no other: never
  // shared. Clients may use it too (it is an ordinary listener).
  if (const PeerConfig* own = cfg.own_peer();
      own && !(own->host == cfg.pooler.listen_addr && own->port == cfg.pooler.listen_port)) {
    open(own->host, own->port, false);
    log::info("peer {} of {}: cancel requests of this process's clients reach it on {}:{}", own->id,
              cfg.peers.size(), own->host, own->port);
  }
}

bool Daemon::bind_listeners(const Config& cfg) {
  if (!options_.takeover.empty()) {
    // The old process's sockets, not new ones: nothing in their accept queues is lost.
    takeover_ = std::make_unique<Takeover>(options_.takeover);
    std::vector<int> fds;
    std::string error;
    if (!takeover_->take_listeners(fds, error) || !adopt_listeners(fds)) {
      log::error("takeover from {}: {}", options_.takeover, error.empty() ? "no listening socket" : error);
      return false;
    }
  } else {
    try {
      open_listeners(cfg);
    } catch (const std::exception& e) {
      log::error("{}", e.what());
      return false;
    }
  }
  if (!options_.handover_socket.empty()) {
    handover_ = std::make_unique<Handover>(options_.handover_socket);
    std::string error;
    if (!handover_->open(error)) {
      log::error("{}", error);
      return false;
    }
  }
  return true;
}

int Daemon::run() {
  auto cfg = rt_.config();
  std::signal(SIGPIPE, SIG_IGN);
  if (!bind_listeners(*cfg)) return 1;
  // Prometheus and load balancers (metrics/), served on the main thread: it runs through the drain.
  std::shared_ptr<metrics::Endpoint> metrics_endpoint;
  if (cfg->pooler.metrics_port != 0) {
    auto started = metrics::Endpoint::start(ops::metrics_sources(rt_), main_.get_executor(), cfg->pooler.metrics_addr,
                                            cfg->pooler.metrics_port);
    if (auto* err = std::get_if<std::string>(&started)) {
      log::error("{}", *err);
      return 1;
    }
    metrics_endpoint = std::get<std::shared_ptr<metrics::Endpoint>>(std::move(started));
    log::info("metrics on http://{}:{}/metrics and /healthz", cfg->pooler.metrics_addr, metrics_endpoint->port());
  }
  log::info("pgopt {} listening on {}:{} with {} worker(s), {} database(s)", PGOPT_VERSION, cfg->pooler.listen_addr,
            cfg->pooler.listen_port, cfg->pooler.workers, cfg->databases.size());
  for (const auto& [name, db] : cfg->databases) {
    if (!db.read_write_split) continue;
    if (cfg->pool_mode(db) == PoolMode::Session)
      log::warn("database {}: read_write_split has no effect in session mode (a client keeps one server for its "
                "whole session): everything runs on the primary {}:{}", name, db.host, db.port);
    else
      log::info("database {}: read/write splitting across the primary {}:{} and {} replica(s)", name, db.host,
                db.port, db.replicas.size());
  }
  start_pollers(*cfg);
  // Accepting on the main thread, not on a worker: the socket state Asio allocates per accepted
  // connection (it lives as long as the connection) then comes from the main thread's allocator
  // arena, not interleaved with a worker's short-lived coroutine frames of the same size, whose
  // freed slots would keep pages of idle clients' memory partly empty.
  for (auto& a : acceptors_) spawn(main_, accept_loop(*a), "the listener", OnFailure::Shutdown);
  for (auto& w : rt_.workers) {
    spawn(w->ctx, sweep_loop(*w), "a worker's timeout sweep", OnFailure::Shutdown);
    spawn(w->ctx, w->parking.run(), "a worker's parking lot", OnFailure::Shutdown);
    spawn(w->ctx, w->hangups.run(), "a worker's hang-up watch", OnFailure::Shutdown);
  }
  // Registered here, before systemd hears READY=1, not when the coroutine first runs (after
  // main_.run()): a SIGHUP sent right after READY would otherwise meet the default action and end
  // the process (seen under ThreadSanitizer, where the gap is wide). Signals that arrive before the
  // first async_wait are queued by the set.
  asio::signal_set signals(main_, SIGHUP, SIGTERM, SIGINT);
  spawn(main_, signal_loop(signals), "the signal handler", OnFailure::Shutdown);
  spawn(main_, ops::capture_file_loop(rt_), "the capture file writer");
  if (takeover_) spawn(main_, takeover_->receive_clients(rt_), "the takeover receiver");
  if (handover_) spawn(main_, handover_loop(), "the handover socket");
  for (auto& w : rt_.workers) {
    w->thread = std::thread([&ctx = w->ctx] {
      auto guard = asio::make_work_guard(ctx);
      ctx.run();
    });
  }
  // Every listener is bound and the workers run: systemd may start what comes After=pgopt.
  service::ready(fmt::format("accepting clients on {}:{}", cfg->pooler.listen_addr, cfg->pooler.listen_port));
  main_.run();
  if (metrics_endpoint) metrics_endpoint->stop();
  for (auto& w : rt_.workers) {
    w->ctx.stop();
    if (w->thread.joinable()) w->thread.join();
  }
  // Every worker has stopped: nothing else touches the sessions or the idle servers now. A parked
  // session holds itself (no pending Asio operation does), so it is let go here.
  for (auto& w : rt_.workers) {
    for (auto& c : w->clients()) c->drop_if_parked();
  }
  for (Pool* p : rt_.pools.all())
    for (auto& s : p->take_all_idle()) s->close();
  log::info("pgopt stopped");
  return exit_code_;
}

}  // namespace pgopt::pooler
