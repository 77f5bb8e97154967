// A server whose client vanished while it was attached: its work finished and the connection
// pooled again, not closed. Closing it cost a backend fork per dead client, and a crowd of dying
// clients (a driver timing out under load) made every new client wait for those forks.
#include <fmt/format.h>

#include "pooler/client_session.hpp"
#include "pooler/log.hpp"
#include "pooler/session/reply_scanner.hpp"
#include "pooler/spawn.hpp"

namespace pgopt::pooler {

namespace proto = pgopt::protocol;
using namespace asio::experimental::awaitable_operators;

namespace {
// How long finishing a dead client's work may take (the cancel sent by disconnect() usually ends a
// running query in milliseconds); past it the connection is closed, which rolls back as well.
constexpr std::chrono::seconds kSalvageTime{5};
// A cancel that reaches the backend before the gone client's query does is lost: PostgreSQL ignores
// a cancel while it waits for a command. So while that work still runs, it is cancelled again at
// this interval (a pg_sleep(20) otherwise outlasted kSalvageTime and cost the connection).
constexpr std::chrono::milliseconds kRecancelEvery{500};
}  // namespace

namespace {

namespace be = proto::backend;

// The gone client's replies, read only to keep the books true: the prepared-statement tracker (so
// the server's statement list stays right) and the transaction tracker (what is still owed, where
// the transaction stands). A COPY FROM STDIN that starts gets a CopyFail: nobody will send the data.
struct LeftoverReplies final : session::ReplyListener {
  session::TxTracker& tx;
  prepared::Tracker* prepared;
  prepared::ServerStatements& statements;
  std::string& out;  // to the server
  bool desync = false;

  LeftoverReplies(session::TxTracker& t, prepared::Tracker* p, prepared::ServerStatements& st, std::string& o)
      : tx(t), prepared(p), statements(st), out(o) {}

  bool needs_body(char type) const override {
    return type == be::kReadyForQuery || type == be::kCopyInResponse || (prepared && prepared->needs_body(type));
  }
  session::Verdict on_message(char type, std::span<const uint8_t> body, bool streamed, std::string&) override {
    if (streamed) {  // a large row or copy chunk: skipped as it streams by
      if (prepared) prepared->on_server_message(type, {}, statements);
      return session::Verdict::Forward;
    }
    if (prepared && prepared->on_server_message(type, needs_body(type) ? body : std::span<const uint8_t>{}, statements)
                            .action == prepared::ReplyAction::Desync) {
      desync = true;
      return session::Verdict::Stop;
    }
    if (type == be::kCopyInResponse) {
      if (int ignored = tx.on_copy_in(); ignored > 0 && prepared) prepared->ignore_syncs(ignored);
      proto::copy_fail(out, "client connection lost");
      tx.on_client(proto::frontend::kCopyFail);
    } else if (type == be::kReadyForQuery) {
      tx.on_ready(body.empty() ? session::TxStatus::Idle : session::TxStatus(body[0]));
    }
    return session::Verdict::Forward;  // nobody reads the output: forwarding copies nothing
  }
};

}  // namespace

// Reads what the server still owes the gone client and discards it, ending what the client left
// open: a COPY FROM STDIN gets a CopyFail, extended-protocol messages without their Sync get one.
// Returns true once every ReadyForQuery owed has come (the transaction tracker then says where the
// session stands).
awaitable<bool> ClientSession::finish_server_work(ServerConn& s, size_t stream_left) {
  Buffer& buf = s.buf;
  session::TxTracker& tx = awake_->tx_;
  session::ReplyScanner scanner(stream_left);
  std::string out;
  LeftoverReplies replies(tx, prepared_.get(), s.statements, out);
  bool sync_sent = false;
  auto send_sync_if_due = [&] {
    if (tx.outstanding() > 0 || tx.unsynced() == 0 || sync_sent) return;
    proto::sync(out);
    sync_sent = true;
    tx.on_client(proto::frontend::kSync);
  };
  if (tx.copy_in_open()) {
    proto::copy_fail(out, "client connection lost");
    tx.on_client(proto::frontend::kCopyFail);
  }
  send_sync_if_due();
  for (;;) {
    if (!out.empty()) {
      if (co_await send_all(s.sock, out)) co_return false;
      out.clear();
    }
    const bool drained = scanner.stream_left() == 0 && buf.empty();
    if (tx.outstanding() <= 0 && drained) co_return true;
    const auto scan = scanner.scan(buf.readable(), replies);
    if (scan.status != session::ReplyScanner::Status::Ok) co_return false;
    buf.consume(scan.consumed);
    send_sync_if_due();
    if (!out.empty() || (tx.outstanding() <= 0 && scanner.stream_left() == 0 && buf.empty())) continue;
    auto [ec, n] = co_await s.sock.async_read_some(buf.prepare(), nothrow);
    if (ec) co_return false;
    buf.commit(n);
  }
}

awaitable<void> ClientSession::salvage(ServerPtr s, size_t stream_left) {
  auto exec = co_await asio::this_coro::executor;
  asio::steady_timer deadline(exec, kSalvageTime);
  // Outlives finish() below: send_cancel may still wake it after finish() was cut short.
  asio::steady_timer cancels(exec, asio::steady_timer::time_point::max());
  bool work_done = false;
  auto finish = [&]() -> awaitable<bool> {
    const bool finished = co_await finish_server_work(*s, stream_left);
    work_done = true;
    if (!finished) co_return false;
    // A cancel of the gone client's query must land before anyone else's query runs here.
    s->cancels_done = &cancels;
    while (s->cancels_in_flight > 0) co_await cancels.async_wait(nothrow);
    s->cancels_done = nullptr;
    if (awake_->tx_.status() != session::TxStatus::Idle) {
      // Idle (or failed) in a transaction: roll it back here so its locks go now.
      auto r = co_await run_internal(*s, "ROLLBACK");
      if (!r.ok || r.status != 'I') co_return false;
    }
    co_return true;
  };
  // Cancels again while the work runs; never after finish_server_work() is done, so a late cancel
  // cannot land on the ROLLBACK below or on the next client's query (finish() waits for those
  // already in flight).
  auto recancel = [&]() -> awaitable<void> {
    asio::steady_timer every(exec);
    for (;;) {
      every.expires_after(kRecancelEvery);
      if (auto [ec] = co_await every.async_wait(nothrow); ec) co_return;
      if (work_done || !awake_->tx_.busy()) continue;
      log::debug("{} cancelling the gone client's query on {} again", tag(), s->describe());
      ++s->cancels_in_flight;
      spawn(exec, send_cancel(shared_from_this(), s), "cancel forwarding");
    }
  };
  const bool busy = awake_->tx_.busy() || stream_left > 0 || !s->buf.empty();
  auto outcome = co_await (finish() || deadline.async_wait(nothrow) || recancel());
  s->cancels_done = nullptr;
  if (outcome.index() != 0 || !std::get<0>(outcome)) {
    log::info("{} closing server {} left {} by the client{}", tag(), s->describe(), busy ? "busy" : "in a transaction",
              outcome.index() != 0 ? " (not finished in time)" : "");
    s->pool->discard(s);
    co_return;
  }
  if (busy) log::info("{} finished the work of the gone client on server {}; pooled again", tag(), s->describe());
  co_await release(std::move(s));
}

}  // namespace pgopt::pooler
