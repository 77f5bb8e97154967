// The admin console: a session for database "pgopt" that the pooler answers itself, never a server.
#include <fmt/format.h>

#include <map>

#include <algorithm>
#include <csignal>
#include <unistd.h>

#include "pooler/admin/admin_session.hpp"
#include "pooler/admin/command.hpp"
#include "pooler/admin/control.hpp"
#include "pooler/admin/views.hpp"
#include "pooler/ops/capture_collect.hpp"
#include "pooler/client_session.hpp"
#include "pooler/log.hpp"

namespace pgopt::pooler {

namespace proto = pgopt::protocol;

namespace {

// Commands are one line; a bigger message is not a console user.
constexpr uint32_t kMaxAdminMessage = 64 * 1024;

// What the console's views need of the clients: SHOW CLIENTS every one; SHOW POOLS, SERVERS and
// PREPARED only those with a server attached, the others counted per pool. With 10,000 idle
// clients, a copy of every client's strings made those commands take 12 ms.
struct ClientsView {
  std::vector<ClientSnapshot> snapshots;
  std::map<const Pool*, int> idle_by_pool;  // Idle clients without a server, by their (primary) pool
};

// Runs on worker `w`: sessions are single-threaded, so their state is read on their own thread.
awaitable<ClientsView> worker_view(Worker& w, bool every_client) {
  ClientsView v;
  for (auto& c : w.clients()) {
    if (c->state() == ClientState::Closing) continue;
    if (every_client || c->has_server())
      v.snapshots.push_back(c->snapshot());
    else if (c->state() == ClientState::Idle && !c->is_admin())
      ++v.idle_by_pool[c->pool()];
  }
  co_return v;
}

awaitable<ClientsView> clients_view(Runtime& rt, bool every_client) {
  ClientsView all;
  for (auto& w : rt.workers) {
    auto part = co_await asio::co_spawn(w->ctx, worker_view(*w, every_client), asio::use_awaitable);
    all.snapshots.insert(all.snapshots.end(), std::make_move_iterator(part.snapshots.begin()),
                         std::make_move_iterator(part.snapshots.end()));
    for (const auto& [pool, n] : part.idle_by_pool) all.idle_by_pool[pool] += n;
  }
  std::sort(all.snapshots.begin(), all.snapshots.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  co_return all;
}

// Runs on the target's worker. False: it was already closing.
awaitable<bool> kill_on_worker(std::shared_ptr<ClientSession> target, std::string by) {
  if (target->state() == ClientState::Closing) co_return false;
  target->disconnect("KILL_CLIENT from the admin console (" + by + ")", "57P01",
                     "terminating connection due to administrator command");
  co_return true;
}

awaitable<std::vector<std::string>> reload_on_main(Runtime& rt) { co_return rt.reload(); }

}  // namespace

ClientSnapshot ClientSession::snapshot() const {
  ClientSnapshot s;
  s.id = ident_.id;
  s.user = user();
  s.database = database();
  s.peer = ident_.peer;
  s.state = std::string(to_string(state_));
  s.admin = is_admin();
  s.connected_at = ident_.connected_at;
  s.last_activity = last_activity_;
  s.tx_status = client_tx_status();
  if (server_) {
    s.server_id = server_->id;
    s.server_host = server_->target.host;
    s.server_port = server_->target.port;
    s.server_created = server_->created;
    s.server_pool = server_->pool;
    s.server_prepared = server_->statements.size();
    s.server_prepared_hits = server_->statements.hits;
    s.server_prepared_misses = server_->statements.misses;
    s.server_prepared_evictions = server_->statements.evictions;
  }
  return s;
}

namespace admin {

awaitable<void> AdminSession::run() {
  // The live list, so a reload that adds or removes an admin applies to the next login.
  const auto cfg = c_.rt_.config();
  const auto& admins = cfg->pooler.admin_users;
  if (std::find(admins.begin(), admins.end(), c_.user()) == admins.end()) {
    c_.disconnect(fmt::format("user \"{}\" is not in admin_users", c_.user()), "28000",
               "not allowed to connect to the admin console");
    co_return;
  }
  c_.awake_->io_.out.clear();
  // What libpq and psql expect to hear at login; the version is the PostgreSQL one pgopt speaks.
  proto::parameter_status(c_.awake_->io_.out, "server_version", "15.0 (pgopt admin console)");
  proto::parameter_status(c_.awake_->io_.out, "server_encoding", "UTF8");
  proto::parameter_status(c_.awake_->io_.out, "client_encoding", "UTF8");
  proto::parameter_status(c_.awake_->io_.out, "DateStyle", "ISO, MDY");
  proto::parameter_status(c_.awake_->io_.out, "integer_datetimes", "on");
  proto::parameter_status(c_.awake_->io_.out, "standard_conforming_strings", "on");
  proto::ready_for_query(c_.awake_->io_.out, 'I');
  if (!co_await c_.send_out()) co_return;
  c_.set_state(ClientState::Idle);
  log::info("{} admin console login", c_.tag());

  for (;;) {
    std::optional<std::string> text = co_await read_query();
    if (!text) co_return;
    // Not io_.out: check_timeouts frees an idle client's io_.out, which a slow reader could catch mid-write.
    std::string reply;
    bool shutdown = false;
    auto parsed = parse_command(*text);
    if (auto* err = std::get_if<CommandError>(&parsed)) {
      proto::error_response(reply, "ERROR", err->sqlstate, err->message, {}, err->hint);
    } else {
      shutdown = co_await run_command(std::get<Command>(parsed), reply);
      if (c_.state_ == ClientState::Closing) co_return;  // killed itself, or the drain already came
    }
    proto::ready_for_query(reply, 'I');
    if (!co_await c_.send(reply)) co_return;
    if (shutdown) ::kill(::getpid(), SIGTERM);  // after the reply, so the client sees it before the drain
  }
}

// The next simple Query's text; nullopt once the session is over (Terminate, a lost connection, or
// any other message, each disconnected here with its reason).
awaitable<std::optional<std::string>> AdminSession::read_query() {
  for (;;) {
    auto r = proto::decode_frame(c_.awake_->io_.in.readable(), kMaxAdminMessage);
    if (r.status == proto::DecodeStatus::Malformed) {
      c_.disconnect("malformed message: " + r.error, "08P01", "invalid message: " + r.error);
      co_return std::nullopt;
    }
    if (r.status == proto::DecodeStatus::NeedMore) {
      // Between messages the read lands in io_.small, never in io_.in: check_timeouts releases an idle
      // client's empty io_.in, which must not have a read pending into it.
      const bool small = c_.awake_->io_.in.empty();
      // Chosen before the co_await: GCC 12 evaluated io_.in.prepare() (a 4 kB allocation) even when the
      // condition picked io_.small inside the co_await expression.
      const asio::mutable_buffer target = small ? asio::buffer(c_.awake_->io_.small) : c_.awake_->io_.in.prepare();
      auto [ec, n] = co_await c_.awake_->io_.sock.async_read_some(target, nothrow);
      if (ec) {
        c_.disconnect(ec == asio::error::eof ? "client closed the connection" : "client connection lost: " + ec.message());
        co_return std::nullopt;
      }
      if (small)
        c_.awake_->io_.in.append(c_.awake_->io_.small.data(), n);
      else
        c_.awake_->io_.in.commit(n);
      continue;
    }
    const proto::Frame& f = r.frame;
    c_.last_activity_ = Clock::now();
    if (f.type == 'X') {
      c_.disconnect("client closed the connection");
      co_return std::nullopt;
    }
    if (f.type != 'Q' || f.body.empty() || f.body.back() != 0) {
      c_.disconnect(fmt::format("unexpected message '{}' on the admin console", f.type), "08P01",
                 "the admin console accepts only simple Query messages");
      co_return std::nullopt;
    }
    std::string text(reinterpret_cast<const char*>(f.body.data()), f.body.size() - 1);
    c_.awake_->io_.in.consume(f.size);
    co_return text;
  }
}

// Runs one console command, its result or error appended to `reply`; true for SHUTDOWN, which the
// caller carries out after sending the reply.
awaitable<bool> AdminSession::run_command(const Command& cmd, std::string& reply) {
  const auto live = c_.rt_.config();
  const std::string by = fmt::format("C-{} {}", c_.ident_.id, c_.user());
  switch (cmd.kind) {
    case CommandKind::Empty:
      proto::empty_query_response(reply);
      break;
    case CommandKind::ShowPools: {
      auto view = co_await clients_view(c_.rt_, false);
      write_result(reply, show_pools(c_.rt_, view.snapshots, view.idle_by_pool), "SHOW");
      break;
    }
    case CommandKind::ShowClients:
      write_result(reply, show_clients((co_await clients_view(c_.rt_, true)).snapshots), "SHOW");
      break;
    case CommandKind::ShowServers:
      write_result(reply, show_servers(c_.rt_, (co_await clients_view(c_.rt_, false)).snapshots), "SHOW");
      break;
    case CommandKind::ShowDatabases:
      write_result(reply, show_databases(c_.rt_, *live), "SHOW");
      break;
    case CommandKind::ShowConfig:
      write_result(reply, show_config(*live), "SHOW");
      break;
    case CommandKind::ShowReplicas:
      write_result(reply, show_replicas(c_.rt_, *live), "SHOW");
      break;
    case CommandKind::Reload:
      co_await reload(reply);
      break;
    case CommandKind::KillClient:
      co_await kill_client(cmd.client_id, reply);
      break;
    case CommandKind::ShowPrepared:
      write_result(reply, show_prepared(c_.rt_, (co_await clients_view(c_.rt_, false)).snapshots), "SHOW");
      break;
    case CommandKind::ShowStats:
      write_result(reply, show_stats(c_.rt_, *live), "SHOW");
      break;
    case CommandKind::ShowQueries:
      write_result(reply, show_queries(co_await ops::collect_capture(c_.rt_)), "SHOW");
      break;
    case CommandKind::ShowCache:
      write_result(reply, show_cache(c_.rt_), "SHOW");
      break;
    case CommandKind::CacheClear:
      cache_clear(c_.rt_, cmd, reply, by);
      break;
    case CommandKind::Pause:
      co_await pause(c_.rt_, cmd, reply, [this] { return c_.state_ == ClientState::Closing; }, by);
      break;
    case CommandKind::Resume:
      resume(c_.rt_, cmd, reply, by);
      break;
    case CommandKind::Kill:
      co_await kill_database(c_.rt_, cmd, reply, by);
      break;
    case CommandKind::Set:
      co_await set(c_.rt_, cmd, reply, by);
      break;
    case CommandKind::Shutdown:
      // Exactly what SIGTERM does (Daemon::signal_loop): stop accepting, drain, exit 0. This
      // session is idle, so the drain closes it too, with 57P01 after this reply.
      log::info("{} admin console: SHUTDOWN", c_.tag());
      proto::command_complete(reply, "SHUTDOWN");
      co_return true;
  }
  co_return false;
}

awaitable<void> AdminSession::reload(std::string& reply) {
  log::info("{} admin console: RELOAD", c_.tag());
  if (!c_.rt_.reload) {
    proto::error_response(reply, "ERROR", "0A000", "RELOAD is not available in this process");
    co_return;
  }
  auto errors = co_await asio::co_spawn(c_.rt_.main, reload_on_main(c_.rt_), asio::use_awaitable);
  if (errors.empty()) {
    proto::command_complete(reply, "RELOAD");
    co_return;
  }
  std::string detail;
  for (const auto& e : errors) detail += (detail.empty() ? "" : "\n") + e;
  proto::error_response(reply, "ERROR", "F0000", "reload failed: keeping the running configuration", detail);
}

awaitable<void> AdminSession::kill_client(uint64_t client_id, std::string& reply) {
  log::info("{} admin console: KILL_CLIENT {}", c_.tag(), client_id);
  std::shared_ptr<ClientSession> target;
  Worker* on = nullptr;
  for (auto& w : c_.rt_.workers) {
    for (auto& c : w->clients())
      if (c->id() == client_id) target = std::move(c), on = w.get();
    if (target) break;
  }
  bool killed = false;
  if (target)
    killed = co_await asio::co_spawn(on->ctx, kill_on_worker(target, fmt::format("C-{} {}", c_.ident_.id, c_.user())),
                                     asio::use_awaitable);
  if (killed)
    proto::command_complete(reply, "KILL_CLIENT");
  else
    proto::error_response(reply, "ERROR", "42704", fmt::format("no client with id {}", client_id), {},
                          "SHOW CLIENTS lists the connected clients and their ids");
}

}  // namespace admin
}  // namespace pgopt::pooler
