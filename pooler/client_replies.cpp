// Server -> client: each server message judged once for the client (hidden, dropped, replaced,
// forwarded) and what it means for the session; the relay loop that reads the server and writes
// the client; handing the server back when the client's transaction is over.
#include <fmt/format.h>

#include "pooler/client_session.hpp"
#include "pooler/failover.hpp"
#include "pooler/log.hpp"
#include "pooler/session/early_replies.hpp"
#include "pooler/session/reply_scanner.hpp"

namespace pgopt::pooler {

namespace proto = pgopt::protocol;
namespace be = proto::backend;

namespace {
// Said with every error of a request whose server was lost while the client stays connected.
constexpr std::string_view kKeptHint =
    "The server connection was lost; pgopt kept this connection, and the next statement runs on a new server "
    "connection with this session's settings and prepared statements.";
}  // namespace

// The relay's judgement of one server's messages for its client (session::ReplyListener). Lives
// for one scan of what a read brought; what it found (a dying replica, a reply nothing waited for,
// a result reaching the client) is read by server_loop afterwards.
struct ClientSession::ServerReplies final : session::ReplyListener {
  ClientSession& c;
  ServerConn& s;
  bool result_seen = false;  // a result (not a notice or setting report) reached the client
  bool dying = false;        // a FATAL before any result on a retriable batch (retry_elsewhere)
  bool desync = false;       // a reply nothing was waiting for (the prepared-statement tracker)
  bool fatal_forwarded = false;  // the client got the server's own FATAL: the server is closing
  bool fatal_softened = false;   // ... as an ERROR: the client outlives the server (fail_in_flight)

  ServerReplies(ClientSession& client, ServerConn& server) : c(client), s(server) {}

  bool needs_body(char type) const override {
    return c.awake_->tx_.hiding() || type == be::kReadyForQuery || type == be::kParameterStatus ||
           (awaiting_answer() && (type == be::kNoticeResponse || type == be::kNotification)) ||
           type == be::kErrorResponse || type == be::kCommandComplete || type == be::kCopyInResponse ||
           (c.prepared_ && c.prepared_->needs_body(type)) || (c.cache_ && c.cache_->fill);
  }

  session::Verdict on_message(char type, std::span<const uint8_t> body, bool streamed, std::string& replacement) override {
    using session::Verdict;
    if (streamed) {
      if (awaiting_answer()) c.awake_->tx_.on_answer();  // the early types are never streamed (needs_body)
      if (c.cache_) c.cache_->fill.reset();  // a message too large to hold: not a reply to keep
      if (c.prepared_ && c.prepared_->on_server_message(type, {}, s.statements).action == prepared::ReplyAction::Desync)
        return stop_desync();
      return Verdict::Forward;
    }
    session::TxTracker& tx = c.awake_->tx_;
    if (awaiting_answer()) {
      if (auto v = judge_early(type, body)) return *v;
    }
    if (tx.hiding()) {
      // The replies to a BEGIN the pooler held back and sent late (client_split.cpp): the client
      // had its answer already.
      if (type == be::kReadyForQuery) {
        c.on_ready_for_query(tx.on_ready(status_of(body)));
      } else if (type == be::kErrorResponse) {
        tx.on_error();
      }
      return Verdict::Drop;
    }
    if (type != be::kNoticeResponse && type != be::kParameterStatus && type != be::kNotification) {
      if (type == be::kErrorResponse && retriable() && !result_seen && fatal(body)) {
        // A server going down says why (57P01, "terminating connection due to administrator
        // command") and closes: nothing ran for the client yet.
        dying = true;
        return Verdict::Stop;
      }
      result_seen = true;
    }
    prepared::ReplyDecision decision;
    if (c.prepared_) {
      const bool inspect = c.prepared_->needs_body(type) || type == be::kReadyForQuery ||
                           type == be::kParameterStatus || type == be::kErrorResponse ||
                           type == be::kCommandComplete || type == be::kCopyInResponse;
      decision = c.prepared_->on_server_message(type, inspect ? body : std::span<const uint8_t>{}, s.statements);
      if (decision.action == prepared::ReplyAction::Desync) return stop_desync();
      if (decision.action == prepared::ReplyAction::Retry) {
        c.awake_->batch_.retry.clear();
        c.prepared_->replay({reinterpret_cast<const uint8_t*>(decision.replacement.data()), decision.replacement.size()},
                            s.statements, c.awake_->batch_.statement_capacity, c.awake_->batch_.retry);
      }
    }
    // Schema changes by any client, whatever its pool mode, outdate the database's shared
    // statements (server_statements.hpp); the pooler's own replies count too (they are real).
    s.statements.on_server_message(type, body);
    if (decision.action == prepared::ReplyAction::Skip || decision.action == prepared::ReplyAction::Retry)
      return Verdict::Drop;
    if (c.capture_) c.capture_->on_server(type, body);
    // Before the message is forwarded: an invalidation it commits comes first.
    if (c.cache_) c.cache_on_reply(type, body, s.is_replica());
    note(type, body);
    if (type == be::kErrorResponse && fatal_softened) {
      replacement = softened(body);
      return Verdict::Replace;
    }
    if (decision.action == prepared::ReplyAction::Replace) {
      replacement = std::move(decision.replacement);
      return Verdict::Replace;
    }
    return Verdict::Forward;
  }

 private:
  // Transaction mode, and the server attached for this transaction has not begun answering: what
  // it sends may be from its time in the pool. (Session mode: an idle client owns its server, and
  // what the server sends meanwhile is that client's, as with PostgreSQL itself.)
  bool awaiting_answer() const {
    return c.mode_ == PoolMode::Transaction && c.awake_->tx_.answer() == session::TxTracker::Answer::Awaited;
  }
  // A message before the server's first reply (rules and the PostgreSQL sources they rest on:
  // pooler/session/early_replies.hpp). Set: its verdict; empty: judged as any reply.
  std::optional<session::Verdict> judge_early(char type, std::span<const uint8_t> body) {
    using session::Early;
    switch (session::judge_early(type, body, c.awake_->tx_)) {
      case Early::Reply:
        c.awake_->tx_.on_answer();
        return std::nullopt;
      case Early::ClientsOwn:
        return std::nullopt;
      case Early::Nobodys:
      case Early::DyingWords:
        log::debug("{} dropped a {} server {} sent before answering (while idle in the pool)", c.tag(),
                   proto::message_name(type, true), s.describe());
        return session::Verdict::Drop;
      case Early::ServerSetting:
        if (auto ps = proto::parse_parameter_status(body)) {
          // What the server has now; the client's own value is made true again at its next attach
          // (restore_settings compares the two).
          s.state.set_reported(ps->name, ps->value);
          log::debug("{} server {} reported {} = {} while idle in the pool: not this client's", c.tag(),
                     s.describe(), ps->name, ps->value);
        }
        return session::Verdict::Drop;
      case Early::ServerLeaving:
        // As any server lost before its reply, by the paths below: a retriable batch runs again
        // elsewhere (dying), else the client gets the FATAL as an ERROR and stays (fatal_softened,
        // then fail_in_flight at the EOF) or, when it cannot outlive the server, the FATAL itself.
        // Not run again otherwise: whether the server read the request first cannot be told.
        log::info("{} server {} ended before answering (while idle in the pool?)", c.tag(), s.describe());
        c.awake_->tx_.on_answer();
        return std::nullopt;
    }
    return std::nullopt;
  }
  static session::TxStatus status_of(std::span<const uint8_t> ready_body) {
    return ready_body.empty() ? session::TxStatus::Idle : session::TxStatus(ready_body[0]);
  }
  bool retriable() const { return c.awake_->split_.retry().armed(); }
  static bool fatal(std::span<const uint8_t> body) {
    auto fields = proto::parse_error_fields(body);
    auto severity = fields ? proto::error_field(*fields, 'V') : std::string_view{};
    return severity == "FATAL" || severity == "PANIC";
  }
  // The server's FATAL as the ERROR of the request it ended: same SQLSTATE, message and detail.
  static std::string softened(std::span<const uint8_t> body) {
    std::string out;
    auto fields = proto::parse_error_fields(body);
    if (!fields) return out;
    proto::error_response(out, "ERROR", proto::error_field(*fields, 'C'), proto::error_field(*fields, 'M'),
                          proto::error_field(*fields, 'D'), kKeptHint);
    return out;
  }
  session::Verdict stop_desync() {
    desync = true;
    return session::Verdict::Stop;
  }
  // What a reply the client gets means for the session.
  void note(char type, std::span<const uint8_t> body) {
    session::TxTracker& tx = c.awake_->tx_;
    switch (type) {
      case be::kReadyForQuery:
        c.on_ready_for_query(tx.on_ready(status_of(body)));
        c.meter_.ready(char(tx.status()), tx.busy(), c.awake_->split_.active(), s.is_replica());
        c.notify_settled();
        break;
      case be::kCopyInResponse:
        if (int ignored = tx.on_copy_in(); ignored > 0 && c.prepared_) c.prepared_->ignore_syncs(ignored);
        break;
      case be::kErrorResponse:
        tx.on_error();
        c.meter_.error(metrics::ErrorSource::Server, proto::error_sqlstate(body));
        if (fatal(body)) (c.outlives_server() ? fatal_softened : fatal_forwarded) = true;
        break;
      case be::kCommandComplete:
        tx.on_command_complete(body);
        break;
      case be::kParameterStatus:
        if (auto ps = proto::parse_parameter_status(body)) {
          c.want_.set_reported(ps->name, ps->value);
          c.want_.intern(c.rt_.gucs);
          s.state.set_reported(ps->name, ps->value);
        }
        break;
      default:
        break;
    }
  }
};

awaitable<bool> ClientSession::server_loop(ServerPtr s) {
  Buffer& buf = s->buf;
  session::ReplyScanner scanner;
  bool server_said_fatal = false;  // and the client has that FATAL: no second one from the pooler
  bool error_sent = false;         // the client has the server's FATAL as an ERROR (outlives_server)
  for (;;) {
    if (gone()) break;
    const bool drained = buf.empty() && scanner.stream_left() == 0;
    if (mode_ == PoolMode::Transaction && awake_->tx_.releasable() && drained && s->cancels_in_flight == 0) {
      server_.reset();
      set_state(ClientState::Idle);
      notify_settled();
      if (!release_now(s)) co_await release(std::move(s));
      if (leaving_ == Leaving::Drain)
        disconnect("shutting down", "57P01", "terminating connection: pgopt is shutting down");
      else if (leaving_ == Leaving::Move)
        park_now();
      co_return leaving_ == Leaving::Stay && !gone() && awake_;
    }
    if (mode_ == PoolMode::Session && leaving_ == Leaving::Drain && awake_->tx_.releasable() && drained) {
      disconnect("shutting down", "57P01", "terminating connection: pgopt is shutting down");
      break;
    }
    auto [ec, n] = co_await s->sock.async_read_some(buf.prepare(), nothrow);
    if (ec) {
      if (gone()) break;
      if (ec == asio::error::operation_aborted && s->sock.is_open()) continue;  // woken to re-check (a cancel finished)
      if (server_said_fatal) {
        // As PostgreSQL's own client would see it: the server's FATAL, then the connection ends.
        log::info("{} server {} ended the session with a FATAL", tag(), s->describe());
        if (cache_) cache_server_lost();
        server_.reset();
        s->pool->discard(s);
        if (s->is_replica()) replica_failed(s, "ended the session with a FATAL");
        else suspect_primary(rt_, s->pool->database);  // a shutdown or failover may have begun
        disconnect("the server ended the session (FATAL passed on)");
        co_return false;
      }
      co_await server_failed(std::move(s), ec, scanner.stream_left() == 0, error_sent);
      co_return false;
    }
    buf.commit(n);
    if (awake_->split_.retry().armed() && scanner.stream_left() == 0 && !awake_->tx_.hiding() &&
        buf.size() < kMaxHeldReply && !proto::reply_ready(buf.readable())) {
      // A batch that may still be retried is passed on whole: a replica shut down mid-reply flushes
      // what it had (a RowDescription, some rows) before its notice and EOF, and a client that saw
      // part of a result could not be given the retry's.
      continue;
    }
    ServerReplies replies(*this, *s);
    const auto scan = scanner.scan(buf.readable(), replies);
    server_said_fatal |= replies.fatal_forwarded;
    error_sent |= replies.fatal_softened;
    if (replies.dying) {
      log::warn("{} server {} is going down before answering", tag(), s->describe());
      if (cache_) cache_server_lost();
      server_.reset();
      s->pool->discard(s);
      if (s->is_replica()) replica_failed(s, "terminated by the server");
      else suspect_primary(rt_, s->pool->database);
      co_await retry_elsewhere(s);
      co_return false;
    }
    if (scan.status != session::ReplyScanner::Status::Ok) {
      log::error("{} server {} sent {}", tag(), s->describe(),
                 replies.desync ? "a reply nothing was waiting for" : "an invalid message length");
      if (cache_) cache_server_lost();
      server_.reset();
      s->pool->discard(s);
      disconnect("invalid data from server", "08P01", "invalid message from server");
      co_return false;
    }
    if (scan.consumed > 0) {
      if (replies.result_seen) awake_->split_.retry().result_forwarded();
      if (!scan.out.empty()) {
        error_code wec;
        size_t wn = awake_->io_.sock.write_now(scan.out.data(), scan.out.size(), wec);
        if (!wec && wn < scan.out.size()) {
          auto [e, n2] = co_await asio::async_write(awake_->io_.sock, asio::buffer(scan.out.data() + wn, scan.out.size() - wn), nothrow);
          wec = e;
          wn += n2;
        }
        meter_.sent(wn);
        if (wec) {
          buf.consume(scan.consumed);
          disconnect("client connection lost: " + wec.message());
          break;
        }
      }
      buf.consume(scan.consumed);
    }
    if (!awake_->batch_.retry.empty() && !co_await resend_retired_group(s)) co_return false;
  }
  // The client is gone while this server was attached: finish its work and pool the server again.
  if (cache_) cache_server_lost();  // what it had in flight may still commit
  server_.reset();
  co_await salvage(std::move(s), scanner.stream_left());
  co_return false;
}

awaitable<void> ClientSession::server_failed(ServerPtr s, error_code ec, bool between_messages, bool error_sent) {
  log::warn("{} server {} failed: {}", tag(), s->describe(), ec.message());
  if (cache_) cache_server_lost();  // a COMMIT in flight may have committed
  server_.reset();
  s->pool->discard(s);
  if (s->is_replica()) replica_failed(s, ec.message());
  else suspect_primary(rt_, s->pool->database);  // multi-host: probe at once
  if (awake_->split_.retry().armed() && between_messages) {
    co_await retry_elsewhere(s);
    co_return;
  }
  if (between_messages && outlives_server()) {
    co_await fail_in_flight(std::move(s), error_sent);
    co_return;
  }
  if (!between_messages) {
    // Part of a message already reached the client: bytes written now would be read as the rest of
    // it (libpq: "lost synchronization with server"). Closing says "server closed the connection".
    disconnect(fmt::format("server connection {} lost in the middle of a message", s->describe()));
    co_return;
  }
  disconnect(fmt::format("server connection {} lost", s->describe()), "08006",
             fmt::format("server connection to {}:{} lost: {}", s->target.host, s->target.port,
                         ec == asio::error::eof ? "server closed the connection" : ec.message()));
}

bool ClientSession::outlives_server() const {
  const session::TxTracker& tx = awake_->tx_;
  return mode_ == PoolMode::Transaction && !gone() && !split_memory_.begin_pending && !tx.hiding() &&
         tx.status() == session::TxStatus::Idle && tx.unsynced() == 0 && !tx.copy_in_open() && !tx.holds_cursors();
}

awaitable<void> ClientSession::fail_in_flight(ServerPtr s, bool error_sent) {
  // What PostgreSQL would answer a request that failed: an ERROR, then ReadyForQuery. Outside a
  // transaction block each request is its own transaction, so 'I' is what the server would have
  // said after the error too.
  std::string replies;
  const std::string message = fmt::format("server connection to {}:{} lost before this request finished",
                                          s->target.host, s->target.port);
  for (int i = 0; i < awake_->tx_.outstanding(); ++i) {
    if (i > 0 || !error_sent) proto::error_response(replies, "ERROR", "08006", message, {}, kKeptHint);
    proto::ready_for_query(replies, 'I');
  }
  log::info("{} server {} lost; {} request(s) in flight failed, the client stays", tag(), s->describe(),
            awake_->tx_.outstanding());
  // Judged as the server's own replies would be: the trackers forget what the group prepared.
  session::ReplyScanner scanner;
  ServerReplies judge(*this, *s);
  const auto scan = scanner.scan({reinterpret_cast<const uint8_t*>(replies.data()), replies.size()}, judge);
  if (prepared_) prepared_->abandon_all(s->statements);
  set_state(ClientState::Idle);
  notify_settled();
  auto [ec, n] = co_await asio::async_write(awake_->io_.sock, asio::buffer(scan.out.data(), scan.out.size()), nothrow);
  meter_.sent(n);
  if (ec) disconnect("client connection lost: " + ec.message());
}

awaitable<bool> ClientSession::resend_retired_group(const ServerPtr& s) {
  // The group failed only because its statement was retired; the client has seen none of it.
  log::info("{} retrying on {} with a fresh prepared statement (result type changed)", tag(), s->describe());
  auto [ec, n] = co_await asio::async_write(s->sock, asio::buffer(awake_->batch_.retry), nothrow);
  (void)n;
  awake_->batch_.retry.clear();
  if (!ec) co_return true;
  server_.reset();
  s->pool->discard(s);
  disconnect(fmt::format("server connection {} lost", s->describe()), "08006",
             fmt::format("server connection to {}:{} lost: {}", s->target.host, s->target.port, ec.message()));
  co_return false;
}

}  // namespace pgopt::pooler
