// One client connection: relaying its traffic to a pooled server and back, and ending it cleanly.
#include "pooler/client_session.hpp"
#include "pooler/admin/admin_session.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <tuple>

#include "pooler/log.hpp"
#include "pooler/spawn.hpp"
#include "sql/transaction_modes.hpp"

namespace pgopt::pooler {

namespace proto = pgopt::protocol;

namespace {
// A simple Query that only opens a transaction: run twice, it leaves the server as once, and run
// on a server that died before answering, it did nothing (a failover's dead pooled connection).
bool bare_begin_query(const proto::Frame& f) {
  if (f.type != 'Q' || f.body.empty()) return false;
  auto text = f.body.first(f.body.size() - 1);  // without its NUL
  return sql::is_bare_begin({reinterpret_cast<const char*>(text.data()), text.size()});
}
}  // namespace

// What a parked client costs besides its socket (bench/results/idle-clients.md): this object, with
// awake_ null. 304 bytes with GCC 12 and libstdc++ before the session was split into parts
// (issue 16) and after; the parts live in Awake or in the session's few bytes of SplitMemory.
static_assert(sizeof(ClientSession) <= 304, "a parked client must not grow: keep new state in Awake or a part");

std::string_view to_string(ClientState s) {
  switch (s) {
    case ClientState::Login: return "login";
    case ClientState::Idle: return "idle";
    case ClientState::Waiting: return "waiting";
    case ClientState::Active: return "active";
    case ClientState::Closing: return "closing";
  }
  return "?";
}

ClientSession::ClientSession(Runtime& rt, Worker& worker, tcp::socket sock, uint64_t id)
    : rt_(rt), worker_(worker), awake_(std::make_unique<Awake>(std::move(sock), split_memory_)), ident_(id) {
  error_code ec;
  auto ep = awake_->io_.sock.remote_endpoint(ec);
  ident_.peer = ec ? std::string("?") : fmt::format("{}:{}", ep.address().to_string(), ep.port());
  awake_->io_.sock.set_option(tcp::no_delay(true), ec);
  rt_.clients.fetch_add(1, std::memory_order_relaxed);
  ident_.cancel_key = rt_.client_table.add(this, worker_.index);
}

ClientSession::~ClientSession() {
  if (parking_.fd >= 0) ::close(parking_.fd);  // drop_if_parked() at exit
  rt_.client_table.remove(ident_.cancel_key);
  rt_.clients.fetch_sub(1, std::memory_order_relaxed);
}

std::string ClientSession::tag() const {
  if (user().empty()) return fmt::format("C-{} {}", ident_.id, ident_.peer);
  return fmt::format("C-{} {}/{}@{}", ident_.id, database(), user(), ident_.peer);
}

void ClientSession::set_state(ClientState s) {
  if (state_ == ClientState::Closing) return;  // nothing revives a closing session
  meter_.waiting(s == ClientState::Waiting);
  state_ = s;
}

awaitable<bool> ClientSession::send(const std::string& data) {
  error_code ec;
  size_t n = awake_->io_.sock.write_now(data.data(), data.size(), ec);
  if (!ec && n < data.size()) {
    auto [wec, wn] = co_await asio::async_write(awake_->io_.sock, asio::buffer(data) + n, nothrow);
    ec = wec;
    n += wn;
  }
  meter_.sent(n);
  if (ec) {
    disconnect("client connection lost: " + ec.message());
    co_return false;
  }
  co_return true;
}

awaitable<bool> ClientSession::send_out() {
  bool ok = co_await send(awake_->io_.out);
  awake_->io_.out.clear();
  co_return ok;
}

void ClientSession::disconnect(std::string reason, std::string sqlstate, std::string client_message) {
  if (state_ == ClientState::Closing) return;
  // A parked client gets its socket back first, so that it still receives the FATAL (an idle
  // timeout, a shutdown, KILL all meet clients that are usually parked).
  if (parking_.fd >= 0 && !take_back_socket()) reason += " (and its socket was lost while parked)";
  bool was_login = state_ == ClientState::Login;
  state_ = ClientState::Closing;
  awake_->close_reason_ = std::move(reason);
  if (!sqlstate.empty()) {
    log::warn("{} closing: {} ({})", tag(), awake_->close_reason_, sqlstate);
    meter_.error(metrics::ErrorSource::Pooler, sqlstate);
    std::string msg;
    proto::error_response(msg, "FATAL", sqlstate, client_message.empty() ? awake_->close_reason_ : client_message);
    // Best effort and non-blocking: a FATAL is small and the socket is closed right after, so there
    // is no reason to wait for a client that may not be reading.
    awake_->io_.sock.send_now(msg);
  } else if (was_login) {
    log::debug("{} closing: {}", tag(), awake_->close_reason_);
  } else {
    log::info("{} closing: {}", tag(), awake_->close_reason_);
  }
  error_code ec;
  awake_->io_.sock.shutdown(tcp::socket::shutdown_both, ec);
  awake_->io_.sock.close(ec);
  if (server_) {
    if (awake_->tx_.busy()) forward_cancel();  // stop a running query instead of letting it hold locks
    server_->sock.cancel(ec);  // wakes server_loop, which decides between release and close
  }
  notify_settled();
}

awaitable<void> ClientSession::run() {
  awake_->login_ = std::make_unique<LoginHandshake>(*this);
  const LoginHandshake::Outcome logged_in = co_await awake_->login_->run();
  if (logged_in == LoginHandshake::Outcome::Over) co_return;
  if (logged_in == LoginHandshake::Outcome::Admin) co_return co_await admin::AdminSession(*this).run();
  awake_->login_.reset();  // what only login needed; the pool has the names
  auto cfg = rt_.config();
  set_state(ClientState::Idle);
  if (mode_ == PoolMode::Transaction && cfg->pooler.max_prepared_statements > 0)
    prepared_ = std::make_unique<prepared::Tracker>(rt_.statements);
  // In session mode too: its writes must invalidate what transaction-mode clients cached (it only
  // never answers from the cache, client_loop).
  if (cfg->cache.enabled) cache_ = std::make_unique<SessionCache>(rt_.result_cache(cfg->cache));
  co_await client_loop();
}

// ---- client -> server ---------------------------------------------------------------------------

awaitable<void> ClientSession::client_loop() {
  std::vector<BatchItem> items;
  for (;;) {
    auto data = awake_->io_.in.readable_mut();
    size_t ready = 0;
    bool terminate = false;
    if (!decode_batch(data, items, ready, terminate)) co_return;
    if (!terminate && !reserve_large_message(std::span<const uint8_t>(data).subspan(ready))) co_return;
    if (ready > 0 && awake_->split_.retry().moving()) {
      // A batch is being moved to another server (retry_elsewhere): these messages follow it there.
      co_await wait_settled();
      if (gone()) co_return;
      continue;
    }
    if (ready > 0 && split_memory_.skip_to_sync) {
      // The rest of an extended-protocol group the pooler refused: dropped up to its Sync.
      awake_->io_.in.consume(skip_refused_group(data, items, ready));
      if (!split_memory_.skip_to_sync && !co_await send_out()) co_return;
      continue;
    }
    if (ready > 0 && !server_ && prepared_ && !split_memory_.begin_pending && answer_locally(items)) {
      awake_->io_.in.consume(ready);
      if (!co_await send_out()) co_return;
      ready = 0;
    }
    if (ready > 0 && cache_ && !server_ && mode_ == PoolMode::Transaction) {
      if (const size_t used = cache_lookup(items)) {  // a hit: answered without a server
        last_activity_ = Clock::now();
        awake_->io_.in.consume(used);
        if (!co_await send_out()) co_return;
        continue;
      }
      if (!cache_->hint_warning.empty()) {  // before the statement's own reply, as a server's would be
        awake_->io_.out.clear();
        proto::warning_response(awake_->io_.out, "01000", cache_->hint_warning);
        cache_->hint_warning.clear();
        if (!co_await send_out()) co_return;
      }
    }
    bool want_replica = false, writes = false;
    if (ready > 0 && mode_ == PoolMode::Transaction) {
      if (!server_) refresh_split(rt_.config());
      if (awake_->split_.active()) {
        Plan plan = co_await plan_batch(data, items, ready);
        if (gone()) co_return;
        if (plan.kind == Plan::Kind::Answered) {
          last_activity_ = Clock::now();
          awake_->io_.in.consume(plan.consumed);
          if (!co_await send_out()) co_return;
          continue;
        }
        if (plan.kind == Plan::Kind::Requeue) continue;
        if (plan.kind == Plan::Kind::NeedMore) {
          ready = 0;
        } else {
          ready = plan.ready;
          items.resize(plan.items);
          want_replica = plan.replica;
          writes = plan.writes;
        }
      }
    }
    if (ready > 0) {
      last_activity_ = Clock::now();
      const bool fresh = !server_;
      if (fresh) {
        AttachResult ar = AttachResult::Ok;
        if (!attach_now(want_replica)) ar = co_await attach(want_replica);
        if (ar == AttachResult::Closed) co_return;
        if (ar == AttachResult::NoReplica) {
          awake_->io_.out.clear();
          awake_->io_.in.consume(fail_group(data, items,
                                 routing::RouteError{"57P03", "no replica is available for this read", {},
                                                     "Every replica is down or too far behind, and replica_fallback "
                                                     "is \"error\"."}));
          if (!co_await send_out()) co_return;
          continue;
        }
      }
      arm_retry(std::span<const uint8_t>(data).first(ready), items, fresh, want_replica);
      if (writes && !server_->is_replica()) split_memory_.wrote = true;
      if (!co_await send_batch(std::span<const uint8_t>(data).first(ready), items, fresh)) co_return;
      awake_->io_.in.consume(ready);
    }
    if (terminate) {
      disconnect("client sent Terminate");
      co_return;
    }
    if (server_ && awake_->tx_.outstanding() >= binding_.config->pooler.max_pipeline_depth) {
      // A client that pipelines without reading its replies: read nothing more from it until half
      // of what it has in flight is answered (max_pipeline_depth). Its server keeps flowing.
      co_await wait_replies_below(binding_.config->pooler.max_pipeline_depth / 2);
      if (gone()) co_return;
    }
    if (!co_await read_client()) co_return;
  }
}

// Splits what the client sent into whole messages (`items`, `ready` bytes of them), up to a
// Terminate (`terminate`) or an incomplete message. False once the client was disconnected for a
// malformed or unexpected message.
bool ClientSession::decode_batch(std::span<uint8_t> data, std::vector<BatchItem>& items, size_t& ready,
                                 bool& terminate) {
  const uint32_t max_len = binding_.config->pooler.max_packet_size;
  items.clear();
  for (;;) {
    auto r = proto::decode_frame(std::span<const uint8_t>(data).subspan(ready), max_len);
    if (r.status == proto::DecodeStatus::NeedMore) return true;
    if (r.status == proto::DecodeStatus::Malformed) {
      disconnect("malformed message: " + r.error, "08P01", "invalid message: " + r.error);
      return false;
    }
    if (auto err = proto::validate_frontend(r.frame); !err.empty()) {
      disconnect(fmt::format("malformed {} message: {}", proto::message_name(r.frame.type, false), err), "08P01",
                 fmt::format("invalid {} message: {}", proto::message_name(r.frame.type, false), err));
      return false;
    }
    if (!proto::is_frontend_type(r.frame.type) || r.frame.type == 'p') {  // 'p' only during login
      disconnect(fmt::format("unexpected message '{}' after login", r.frame.type), "08P01",
                 fmt::format("unexpected message type '{}'", r.frame.type));
      return false;
    }
    if (r.frame.type == 'X') {
      terminate = true;
      return true;
    }
    items.push_back({ready, r.frame.size, r.frame});
    ready += r.frame.size;
  }
}

// The bytes of a refused extended-protocol group to drop: up to and including its Sync, whose
// ReadyForQuery goes into io_.out (split_memory_.skip_to_sync then ends), or all of `ready` while it has not come.
size_t ClientSession::skip_refused_group(std::span<const uint8_t> data, std::span<const BatchItem> items,
                                         size_t ready) {
  for (const auto& it : items) {
    if (data[it.offset] == 'S') {
      split_memory_.skip_to_sync = false;
      awake_->io_.out.clear();
      proto::ready_for_query(awake_->io_.out, client_tx_status());
      return it.offset + it.size;
    }
  }
  return ready;
}

// Reads more of the client into io_.in; false once the session is over (disconnected, or parked: the
// ParkingLot starts client_loop() again at the client's next byte).
awaitable<bool> ClientSession::read_client() {
  // Between messages the read lands in a small inline buffer, so io_.in can be released while the
  // client idles (check_timeouts) without a pending read pointing into it.
  const bool small = awake_->io_.in.empty();
  // Leaving for the new process (takeover) and between transactions: go now, not after a read.
  if (small && leaving_ == Leaving::Move && state_ == ClientState::Idle && !awake_->io_.sock.encrypted() && park()) {
    hand_over();
    co_return false;
  }
  if (small) {
    awake_->io_.in.shrink(kKeepInBuffer);
    awake_->io_.large_message.release();
  }
  parking_.read = small ? Parking::Read::Idle : Parking::Read::Busy;
  // Chosen before the co_await: GCC 12 evaluated io_.in.prepare() (a 4 kB allocation) even when the
  // condition picked io_.small inside the co_await expression.
  const asio::mutable_buffer target = small ? asio::buffer(awake_->io_.small) : awake_->io_.in.prepare();
  auto [ec, n] = co_await awake_->io_.sock.async_read_some(target, nothrow);
  // Busy again, also after a read that finished just before the cancel: not parked after all.
  const bool park_requested = parking_.read == Parking::Read::ParkRequested;
  parking_.read = Parking::Read::Busy;
  if (ec == asio::error::operation_aborted && park_requested && state_ == ClientState::Idle) {
    if (!park()) co_return true;  // not parked after all: read again
    if (leaving_ == Leaving::Move) hand_over();
    co_return false;
  }
  if (ec) {
    disconnect(ec == asio::error::eof ? "client closed the connection" : "client connection lost: " + ec.message());
    co_return false;
  }
  meter_.received(n);
  if (small)
    awake_->io_.in.append(awake_->io_.small.data(), n);
  else
    awake_->io_.in.commit(n);
  co_return true;
}

awaitable<bool> ClientSession::send_batch(std::span<const uint8_t> data, std::span<BatchItem> items, bool spawn_relay) {
  bool rewrite = false;
  for (auto& it : items) {
    const Noted noted = note_client_message(it.frame);
    it.ignored_sync = noted == Noted::IgnoredSync;
    if (noted != Noted::Refused && (capture_ || worker_.capture.active())) {
      if (!capture_) capture_ = std::make_unique<capture::SessionCapture>();
      capture_->on_client(worker_.capture, it.frame, it.ignored_sync, server_->is_replica(), prepared_.get(), database(),
                          user());
    }
    if (noted == Noted::Refused) {
      // Nothing of this batch reached the server: it goes back as it came (or closed if dirty).
      if (spawn_relay && server_) {
        ServerPtr back = std::move(server_);
        awake_->tx_.forget_requests();
        co_await release(std::move(back));
      }
      co_return false;
    }
    if (prepared_ && !rewrite) rewrite = prepared::Tracker::needs_rewrite(it.frame);
  }
  ServerPtr s = server_;
  // Only once the whole batch is known to go: the tracker records what the server will have.
  awake_->batch_.to_server.clear();
  const bool inject_begin = split_memory_.begin_pending && spawn_relay;
  if (inject_begin) {
    // The BEGIN the pooler answered (client_split.cpp) runs first, on the server the transaction's
    // first statement chose; its replies are dropped.
    proto::query(awake_->batch_.to_server, "BEGIN");
    awake_->tx_.send_hidden_begin();
    split_memory_.begin_pending = false;
    awake_->split_.retry().disarm();  // a retry would have to carry the BEGIN too
  }
  if (prepared_) {
    for (const auto& it : items) {
      prepared_->on_client_message(it.frame, data.subspan(it.offset, it.size), s->statements, awake_->batch_.statement_capacity,
                                   rewrite ? &awake_->batch_.to_server : nullptr);
      if (it.ignored_sync) prepared_->ignore_syncs(1);
    }
  }
  const size_t size = items.empty() ? 0 : items.back().offset + items.back().size;
  if (inject_begin && !rewrite) awake_->batch_.to_server.append(reinterpret_cast<const char*>(data.data()), size);
  // Only now, with the batch counted: co_spawn may run the relay inline, and a relay that saw
  // nothing outstanding would hand the server straight back. The relay of the last transaction,
  // docked, takes the server if there is one (relay_dock.hpp).
  if (spawn_relay && !awake_->waits_.relay.board(s, shared_from_this(), executor()))
    spawn(awake_->io_.sock.get_executor(), relay_server(shared_from_this(), s), "server relay");
  meter_.to_server(spawn_relay);
  auto out = rewrite || inject_begin ? asio::buffer(awake_->batch_.to_server) : asio::buffer(data.data(), size);
  error_code ec;
  const size_t now = s->sock.write_now(out.data(), out.size(), ec);
  if (!ec && now < out.size()) std::tie(ec, std::ignore) = co_await asio::async_write(s->sock, out + now, nothrow);
  if (ec) {
    if (gone()) co_return false;
    if (awake_->split_.retry().armed() || outlives_server()) {
      // The relay sees the broken connection as well: it runs the batch elsewhere, or fails what
      // the client has in flight and keeps the client (server_failed).
      error_code ignored;
      s->sock.close(ignored);
      co_return true;
    }
    log::warn("{} lost server {} while sending: {}", tag(), s->describe(), ec.message());
    if (!s->is_replica() && s->pool) suspect_primary(rt_, s->pool->database);
    disconnect(fmt::format("server connection {} lost", s->describe()), "08006",
               fmt::format("server connection lost ({}:{}): {}", s->target.host, s->target.port, ec.message()));
    co_return false;
  }
  co_return true;
}

void ClientSession::arm_retry(std::span<const uint8_t> batch, std::span<const BatchItem> items, bool fresh,
                              bool want_replica) {
  BatchRetry::Facts f;
  f.bytes = batch.size();
  f.fresh = fresh;
  f.on_replica = server_->is_replica();
  f.want_replica = want_replica;
  f.idle = awake_->tx_.status() == session::TxStatus::Idle && !split_memory_.begin_pending;
  f.busy = awake_->tx_.busy();
  f.bare_begins =
      std::all_of(items.begin(), items.end(), [](const BatchItem& it) { return bare_begin_query(it.frame); });
  awake_->split_.retry().arm(batch, f);
}

bool ClientSession::answer_locally(std::span<const BatchItem> items) {
  awake_->batch_.frames.clear();
  for (const auto& it : items) awake_->batch_.frames.push_back(it.frame);
  if (!prepared::Tracker::can_answer_locally(awake_->batch_.frames)) return false;
  last_activity_ = Clock::now();
  awake_->io_.out.clear();
  prepared_->answer_locally(awake_->batch_.frames, awake_->io_.out);
  return true;
}

// ---- server -> client ---------------------------------------------------------------------------

void ClientSession::on_ready_for_query(session::TxTracker::Ready ready) {
  last_activity_ = Clock::now();
  if (ready.end == session::TxTracker::End::Open) return;
  awake_->split_.transaction_ended(server_ && !server_->is_replica());
  // The transaction is over: its session-level SETs stand if it committed, and are gone if not.
  if (ready.end == session::TxTracker::End::Failed) {
    // Rolled back, or partly (savepoints): we cannot know which SETs survived on this server. (No
    // server: it died under the transaction, fail_in_flight; nothing survived.)
    if (!ready.settings.empty() && server_) server_->need_reset("session settings in a failed transaction");
    return;
  }
  if (ready.settings.empty() && !ready.discard_all) return;
  if (ready.discard_all) {
    want_.reset_all_replayed();
    server_->state.reset_all_replayed();
  }
  for (const auto& g : ready.settings) {
    const GucEntry* reported = want_.find(g.name);
    if (reported && !reported->replayed) continue;  // ParameterStatus already told us
    switch (g.kind) {
      case sql::GucChange::Kind::Set:
        want_.set_replayed(g.name, g.replay_sql);
        server_->state.set_replayed(g.name, g.replay_sql);
        break;
      case sql::GucChange::Kind::Reset:
        want_.reset(g.name);
        server_->state.reset(g.name);
        break;
      case sql::GucChange::Kind::ResetAll:
        want_.reset_all_replayed();
        server_->state.reset_all_replayed();
        break;
    }
  }
  want_.intern(rt_.gucs);
}

bool ClientSession::park() {
  parking_.read = Parking::Read::Busy;
  error_code ec;
  auto& sock = awake_->io_.sock.socket();
  parking_.v6 = sock.local_endpoint(ec).address().is_v6();
  const int fd = ec ? -1 : sock.release(ec);
  if (fd < 0 || ec) {
    // release() failed and the socket is still Asio's (it is not closed by a failed release).
    log::debug("{} not parked: {}", tag(), ec.message());
    return false;
  }
  if (!worker_.parking.add(fd, this)) {
    sock.assign(parking_.v6 ? tcp::v6() : tcp::v4(), fd, ec);
    if (ec) {
      ::close(fd);
      disconnect("client socket lost while parking: " + ec.message());
    }
    return ec.failed();  // a lost socket has nothing to read either: client_loop() ends
  }
  parking_.fd = fd;
  parking_.self = shared_from_this();
  awake_.reset();
  if (capture_ && capture_->blank()) capture_.reset();
  // A client that never named a statement keeps no tracker while parked (unpark makes a new one).
  if (prepared_ && prepared_->blank()) {
    prepared_.reset();
    parking_.tracker_dropped = true;
  }
  ++worker_.parked_since_trim;
  log::debug("{} parked: idle, no coroutine, buffer or Asio operation until its next message", tag());
  return true;
}

void wake_parked_client(void* session) { static_cast<ClientSession*>(session)->wake_parked(); }

void ClientSession::wake_parked() {
  if (parking_.fd < 0) return;  // taken back earlier in the same batch of events
  auto self = std::move(parking_.self);
  if (!take_back_socket()) {
    disconnect("client socket lost while parked");
    return;
  }
  spawn(executor(), unpark(std::move(self)), "unparked client");
}

bool ClientSession::take_back_socket() {
  const int fd = std::exchange(parking_.fd, -1);
  awake_ = std::make_unique<Awake>(tcp::socket(worker_.ctx), split_memory_);
  worker_.parking.remove(fd);
  // The session no longer holds itself; whoever called keeps it alive until this handler runs.
  if (parking_.self) asio::post(executor(), [self = std::move(parking_.self)] {});
  error_code ec;
  awake_->io_.sock.socket().assign(parking_.v6 ? tcp::v6() : tcp::v4(), fd, ec);
  if (ec) {
    ::close(fd);
    log::warn("{} cannot take back its parked socket: {}", tag(), ec.message());
    return false;
  }
  return true;
}

void ClientSession::drop_if_parked() {
  if (parking_.fd < 0) return;
  worker_.parking.remove(parking_.fd);
  auto self = std::move(parking_.self);  // may be the last owner: nothing touches `this` after this
}

awaitable<void> ClientSession::unpark(std::shared_ptr<ClientSession> self) {
  if (self->parking_.tracker_dropped) {
    self->prepared_ = std::make_unique<prepared::Tracker>(self->rt_.statements);
    self->parking_.tracker_dropped = false;
  }
  co_await self->client_loop();
}

// Coroutine entry points take their owners as parameters: a lambda's captures would die with the
// lambda object while the coroutine still runs.
awaitable<void> ClientSession::relay_server(std::shared_ptr<ClientSession> self, ServerPtr s) {
  while (co_await self->server_loop(std::move(s))) {
    // Docked until the next attach hands over a server. Not owning the session meanwhile: if it
    // ends or parks first, this coroutine is destroyed where it waits.
    std::weak_ptr<ClientSession> weak = self;
    RelayDock& dock = self->awake_->waits_.relay;
    self.reset();
    co_await dock.wait(asio::use_awaitable);
    self = weak.lock();  // never null: board()'s post owns the session until now
    if (!self) co_return;
    s = dock.take();
  }
}

}  // namespace pgopt::pooler
