// A client session's part in an online takeover (takeover.hpp): on the old process, moving at its
// next idle point; on the new process, a parked session built from what the old one sent.
#include <sys/socket.h>
#include <unistd.h>

#include "pooler/client_session.hpp"
#include "pooler/fleet/takeover_state.hpp"
#include "pooler/log.hpp"
#include "pooler/takeover.hpp"

namespace pgopt::pooler {

// What cannot move: a TLS connection (its record-layer keys and sequence numbers live in this
// process's OpenSSL, which has no API to export them), a session-mode client (its server connection
// is its session), the admin console, and a client still logging in. These drain.
bool ClientSession::movable() const {
  return rt_.handover.load() && mode_ == PoolMode::Transaction && kind_ == Kind::Relay && state_ != ClientState::Login &&
         state_ != ClientState::Closing && (!awake_ || !awake_->io_.sock.encrypted());
}

void ClientSession::move_when_idle() {
  if (!movable()) return shutdown_when_idle();
  leaving_ = Leaving::Move;
  if (parking_.fd >= 0) return hand_over();
  park_now();
}

// Between transactions: client_loop() parks at its next read (read_client), or now if it waits in
// one. A batch already read runs here first; the client moves at the boundary after it.
void ClientSession::park_now() {
  if (leaving_ != Leaving::Move || state_ != ClientState::Idle || !awake_ || !awake_->io_.in.empty()) return;
  if (parking_.read == Parking::Read::Idle) {
    parking_.read = Parking::Read::ParkRequested;
    error_code ec;
    awake_->io_.sock.socket().cancel(ec);
  }
}

// Parked: nothing owed, no server, no bytes read and unprocessed, no Asio operation. What the
// session holds goes to the new process with the socket; if that fails the client drains.
void ClientSession::hand_over() {
  fleet::MovedClient m;
  m.id = ident_.id;
  m.peer = ident_.peer;
  m.user = user();
  m.database = database();
  m.cancel_pid = ident_.cancel_key.pid;
  m.cancel_secret = ident_.cancel_key.secret;
  m.read_your_writes = split_memory_.ryw != SplitMemory::Ryw::Off;
  m.ryw_pending = split_memory_.ryw == SplitMemory::Ryw::AwaitingStamp;
  m.ryw_lsn = split_memory_.ryw_lsn;
  m.route = uint8_t(split_memory_.route);
  m.cache_off = cache_ && cache_->use == SessionCache::Use::Off;
  for (const auto& [key, e] : want_.entries()) m.settings.push_back({e.name, e.value, e.replayed});
  if (prepared_) {
    for (const auto& [name, s] : prepared_->named())
      m.statements.push_back({name, s->query, s->param_types, s->sql_before, s->sql_after});
  }
  if (binding_.pool) {
    if (auto key = binding_.pool->scram_client_key()) m.scram_client_key.assign(reinterpret_cast<const char*>(key->data()), key->size());
  }
  if (!rt_.handover.load()->send_client(m, parking_.fd)) {
    leaving_ = Leaving::Drain;
    disconnect("shutting down (handover failed)", "57P01", "terminating connection: pgopt is shutting down");
    return;
  }
  worker_.parking.remove(parking_.fd);
  ::close(std::exchange(parking_.fd, -1));
  state_ = ClientState::Closing;
  log::info("{} handed over to the new process", tag());
  auto self = std::move(parking_.self);  // may be the last owner: nothing touches `this` after this
}

ClientSession::ClientSession(Runtime& rt, Worker& worker, int moved_fd, uint64_t id, protocol::CancelKey key)
    : rt_(rt), worker_(worker), ident_(id) {
  parking_.fd = moved_fd;
  rt_.clients.fetch_add(1, std::memory_order_relaxed);
  if (rt_.client_table.claim(key, this, worker_.index)) ident_.cancel_key = key;
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  parking_.v6 = ::getsockname(moved_fd, reinterpret_cast<sockaddr*>(&local), &len) == 0 && local.ss_family == AF_INET6;
}

void ClientSession::adopt(const fleet::MovedClient& m) {
  ident_.peer = m.peer;
  auto refuse = [&](const std::string& why) {
    // Closing the socket is all the client sees: a connection lost between transactions.
    log::warn("takeover: C-{} {}/{}@{} from the old process not taken: {}", m.id, m.database, m.user, m.peer, why);
  };
  binding_.config = rt_.config();
  binding_.db = binding_.config->find_database(m.database);
  if (!binding_.db) return refuse("its database is not in this configuration");
  mode_ = binding_.config->pool_mode(*binding_.db);
  if (mode_ != PoolMode::Transaction) return refuse("its database is not in transaction mode here");
  const auto& pooler = binding_.config->pooler;
  if (!m.statements.empty() && pooler.max_prepared_statements == 0)
    return refuse("it has prepared statements and max_prepared_statements is 0 here");
  if (ident_.cancel_key.pid == 0) return refuse("its cancel key's slot was not free");
  binding_.pool = &rt_.pools.get(m.database, m.user);
  if (m.scram_client_key.size() == auth::Key().size()) {
    auth::Key k;
    std::memcpy(k.data(), m.scram_client_key.data(), k.size());
    binding_.pool->set_scram_client_key(k);
  }
  for (const auto& s : m.settings) {
    if (s.replayed)
      want_.set_replayed(s.name, s.value);
    else
      want_.set_reported(s.name, s.value);
  }
  want_.intern(rt_.gucs);
  if (pooler.max_prepared_statements > 0) {
    prepared_ = std::make_unique<prepared::Tracker>(rt_.statements);
    for (const auto& s : m.statements) prepared_->adopt(s.name, s.query, s.param_types, s.sql_before, s.sql_after);
    // As park() leaves it: a blank tracker is made again at the client's next message.
    if (prepared_->blank()) {
      prepared_.reset();
      parking_.tracker_dropped = true;
    }
  }
  if (binding_.config->cache.enabled) {
    cache_ = std::make_unique<SessionCache>(rt_.result_cache(binding_.config->cache));
    if (m.cache_off) cache_->use = SessionCache::Use::Off;
  }
  // A pending stamp: the first stamp this process polls is after that commit (ryw_round 0).
  split_memory_.ryw = !m.read_your_writes ? SplitMemory::Ryw::Off
                      : m.ryw_pending     ? SplitMemory::Ryw::AwaitingStamp
                                          : SplitMemory::Ryw::On;
  split_memory_.ryw_lsn = m.ryw_lsn;
  split_memory_.route = routing::Route(m.route);
  meter_.bind(&rt_.stats.counters(worker_.index, database()));
  set_state(ClientState::Idle);
  if (!worker_.parking.add(parking_.fd, this)) return refuse("its socket cannot be watched");
  parking_.self = shared_from_this();
  log::info("{} taken over from the old process (its C-{}), backend pid {}", tag(), m.id, ident_.cancel_key.pid);
}

}  // namespace pgopt::pooler
