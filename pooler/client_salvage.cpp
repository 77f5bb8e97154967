// A server whose client vanished while it was attached: its work finished and the connection
// pooled again, not closed. Closing it cost a backend fork per dead client, and a crowd of dying
// clients (a driver timing out under load) made every new client wait for those forks.
#include <fmt/format.h>

#include "pooler/client_session.hpp"
#include "pooler/log.hpp"

namespace pgopt::pooler {

namespace proto = pgopt::protocol;
using namespace asio::experimental::awaitable_operators;

namespace {
// How long finishing a dead client's work may take (the cancel sent by disconnect() usually ends a
// running query in milliseconds); past it the connection is closed, which rolls back as well.
constexpr std::chrono::seconds kSalvageTime{5};
}  // namespace

// Reads what the server still owes the gone client and discards it, ending what the client left
// open: a COPY FROM STDIN gets a CopyFail, extended-protocol messages without their Sync get one.
// Server messages go through the prepared-statement tracker as in server_loop, so the server's
// statement list stays true. Returns true once every ReadyForQuery owed has come (tx_status_ then
// says where the session stands).
awaitable<bool> ClientSession::finish_server_work(ServerConn& s, size_t stream_left) {
  Buffer& buf = s.buf;
  std::string out;
  bool sync_sent = false;
  auto send_sync_if_due = [&] {
    if (outstanding_ > 0 || unsynced_ == 0 || sync_sent) return;
    proto::sync(out);
    sync_sent = true;
    ++outstanding_;
    unsynced_ = 0;
  };
  if (awake_->copy_syncs_.copy_in_open()) proto::copy_fail(out, "client connection lost");
  send_sync_if_due();
  for (;;) {
    if (!out.empty()) {
      if (co_await send_all(s.sock, out)) co_return false;
      out.clear();
    }
    if (outstanding_ <= 0 && stream_left == 0 && buf.empty()) co_return true;
    auto data = buf.readable();
    size_t pos = std::min(stream_left, data.size());
    stream_left -= pos;
    while (stream_left == 0 && data.size() - pos >= 5) {
      const uint8_t* p = data.data() + pos;
      const char type = char(p[0]);
      const uint32_t len = uint32_t(p[1]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 8 | uint32_t(p[4]);
      if (len < 4) co_return false;
      const size_t total = size_t(len) + 1;
      const bool need_body =
          type == 'Z' || type == 'G' || (prepared_ && prepared_->needs_body(type));
      if (data.size() - pos < total) {
        if (!need_body) {  // a large row or copy chunk: skipped as it streams by
          if (prepared_) prepared_->on_server_message(type, {}, s.statements);
          stream_left = total - (data.size() - pos);
          pos = data.size();
        }
        break;
      }
      std::span<const uint8_t> body(p + 5, len - 4);
      if (prepared_ &&
          prepared_->on_server_message(type, need_body ? body : std::span<const uint8_t>{}, s.statements).action ==
              prepared::ReplyAction::Desync)
        co_return false;
      if (type == 'G') {
        // A COPY FROM STDIN began: Syncs sent before it are ignored, and nobody will send the data.
        if (int ignored = awake_->copy_syncs_.on_copy_in(); ignored > 0) {
          outstanding_ -= ignored;
          if (prepared_) prepared_->ignore_syncs(ignored);
        }
        proto::copy_fail(out, "client connection lost");
      } else if (type == 'Z') {
        awake_->copy_syncs_.on_ready();
        --outstanding_;
        tx_status_ = body.empty() ? 'I' : char(body[0]);
      }
      pos += total;
    }
    buf.consume(pos);
    send_sync_if_due();
    if (!out.empty() || (outstanding_ <= 0 && stream_left == 0 && buf.empty())) continue;
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
  auto finish = [&]() -> awaitable<bool> {
    if (!co_await finish_server_work(*s, stream_left)) co_return false;
    // A cancel of the gone client's query must land before anyone else's query runs here.
    s->cancels_done = &cancels;
    while (s->cancels_in_flight > 0) co_await cancels.async_wait(nothrow);
    s->cancels_done = nullptr;
    if (tx_status_ != 'I') {
      // Idle (or failed) in a transaction: roll it back here so its locks go now.
      auto r = co_await run_internal(*s, "ROLLBACK");
      if (!r.ok || r.status != 'I') co_return false;
    }
    co_return true;
  };
  const bool busy = outstanding_ > 0 || unsynced_ > 0 || stream_left > 0 || !s->buf.empty();
  auto outcome = co_await (finish() || deadline.async_wait(nothrow));
  s->cancels_done = nullptr;
  if (outcome.index() != 0 || !std::get<0>(outcome)) {
    log::info("{} closing server {} left {} by the client{}", tag(), s->describe(), busy ? "busy" : "in a transaction",
              outcome.index() != 0 ? " (not finished in time)" : "");
    s->pool->discard(s);
    co_return;
  }
  if (busy) log::info("{} finished the work of the gone client on server {}; pooled again", tag(), s->describe());
  awake_->pending_gucs_.clear();
  co_await release(std::move(s));
}

}  // namespace pgopt::pooler
