// A TCP socket that may switch to TLS: the one stream type client and server connections use.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "pooler/net.hpp"

typedef struct ssl_st SSL;        // NOLINT: OpenSSL's own spelling, so this header needs no OpenSSL
typedef struct ssl_ctx_st SSL_CTX;  // NOLINT

namespace pgopt::pooler::tls {

// Why not asio::ssl::stream: server connections move between workers' io_contexts while idle
// (ServerConn::rebind re-creates the socket on another executor). asio::ssl::stream ties its
// engine (a BIO pair plus two timers) to the executor it was built with, and its SSL* cannot be
// handed to a new stream without losing buffered bytes. Here the SSL object is attached to the
// file descriptor itself (SSL_set_fd) and Asio only waits for readiness, so rebinding keeps the
// TLS session untouched: the descriptor, and so the SSL state, is the same on every executor.
//
// Plaintext until accept()/connect() succeeds; then every read and write goes through OpenSSL.
// Like a socket, at most one read and one write may be in flight at a time (the relay does that).
class Stream {
 public:
  using executor_type = asio::any_io_executor;

  explicit Stream(tcp::socket s) : sock_(std::move(s)) {}
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  executor_type get_executor() { return sock_.get_executor(); }
  tcp::socket& socket() { return sock_; }  // the TCP layer: options, endpoints
  bool encrypted() const { return ssl_ != nullptr; }
  std::string describe() const;  // "TLSv1.3 TLS_AES_256_GCM_SHA384", empty when plaintext

  // TLS as the server, after answering 'S' to an SSLRequest. Returns the error ("" on success).
  awaitable<std::string> accept(SSL_CTX* ctx);
  // TLS as the client, after the server answered 'S'. `host` is sent as SNI (when a name) and,
  // with `check_host`, must match the certificate (a DNS name or an IP address in it).
  awaitable<std::string> connect(SSL_CTX* ctx, const std::string& host, bool check_host);

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(error_code, std::size_t)>(
        [this](auto handler, const MutableBuffers& b) {
          if (!ssl_) return sock_.async_read_some(b, std::move(handler));
          asio::mutable_buffer first;
          for (auto it = asio::buffer_sequence_begin(b); it != asio::buffer_sequence_end(b); ++it) {
            if (asio::mutable_buffer(*it).size() > 0) {
              first = *it;
              break;
            }
          }
          IoOp op(this, true);
          op.rbuf = first;
          asio::async_compose<decltype(handler), void(error_code, std::size_t)>(std::move(op), handler, sock_);
        },
        token, buffers);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(error_code, std::size_t)>(
        [this](auto handler, const ConstBuffers& b) {
          if (!ssl_) return sock_.async_write_some(b, std::move(handler));
          IoOp op(this, false);
          gather(b, op);
          asio::async_compose<decltype(handler), void(error_code, std::size_t)>(std::move(op), handler, sock_);
        },
        token, buffers);
  }

  // Sends what the socket takes at once, never waiting (plaintext only: under TLS it sends nothing
  // and returns 0). A reply or a query usually fits the socket's buffer, and then the whole write is
  // one send() where async_write costs an Asio operation, a trip through the scheduler and a
  // coroutine resume; the caller hands the rest, if any, to async_write. Only while no other write
  // is in flight on this stream (the relay writes one thing at a time). `ec` is set on a failed
  // connection, never for a full buffer.
  std::size_t write_now(const void* data, std::size_t size, error_code& ec);
  // Best effort, never blocks: for the last words before closing (a FATAL, a Terminate). Skipped
  // under TLS while a write is half done (OpenSSL must finish that record first).
  void send_now(std::string_view data);
  // Closing sends TLS close_notify first (best effort), as PostgreSQL does.
  void shutdown(tcp::socket::shutdown_type what, error_code& ec);
  void close(error_code& ec);
  void cancel(error_code& ec) { sock_.cancel(ec); }
  bool is_open() const { return sock_.is_open(); }
  tcp::socket::native_handle_type native_handle() { return sock_.native_handle(); }
  // Bytes received and not yet read: decrypted or still encrypted inside OpenSSL, or on the socket.
  bool has_unread() const;
  // Re-creates the socket on `exec` (same descriptor, same TLS session). No I/O may be pending.
  void rebind(const asio::any_io_executor& exec);

  // Forwarded socket calls used by the sessions.
  template <class Option>
  void set_option(const Option& o, error_code& ec) {
    sock_.set_option(o, ec);
  }
  void set_option(const tcp::no_delay& o) { sock_.set_option(o); }
  tcp::endpoint remote_endpoint(error_code& ec) const { return sock_.remote_endpoint(ec); }
  tcp::endpoint local_endpoint(error_code& ec) const { return sock_.local_endpoint(ec); }
  void non_blocking(bool on, error_code& ec) { sock_.non_blocking(on, ec); }

 private:
  // One SSL_read or SSL_write attempt, and what to do next.
  struct Step {
    enum Kind { Done, WantRead, WantWrite } kind = Done;
    error_code ec;
    std::size_t n = 0;
  };
  Step read_step(void* data, std::size_t size);
  bool buffered() const;  // OpenSSL holds received bytes (decrypted or not) not yet read
  Step write_step(const void* data, std::size_t size);
  awaitable<std::string> handshake(bool as_server);
  void close_notify();

  // A read or a write under TLS: tries OpenSSL, waits for the socket when it asks, and completes
  // through a post when it finished at once (a handler must not run inside its initiation).
  struct IoOp {
    IoOp(Stream* stream, bool is_read) : s(stream), reading(is_read) {}
    Stream* s;
    asio::mutable_buffer rbuf;
    asio::const_buffer wbuf;
    std::string gathered;  // several small buffers copied into one record
    bool reading;
    bool started = false, finished = false;
    error_code result_ec;
    std::size_t result_n = 0;

    template <class Self>
    void operator()(Self& self, error_code ec = {}) {
      if (finished) return self.complete(result_ec, result_n);
      if (ec) {
        if (!reading) s->write_pending_ = false;
        return self.complete(ec, 0);
      }
      const bool first = !started;
      started = true;
      // A read usually waits for the peer: with nothing buffered in OpenSSL, wait for the socket
      // first instead of paying an SSL_read that can only say "want read".
      if (first && reading && rbuf.size() > 0 && !s->buffered())
        return s->sock_.async_wait(tcp::socket::wait_read, std::move(self));
      Step st = reading ? s->read_step(rbuf.data(), rbuf.size())
                        : s->write_step(gathered.empty() ? wbuf.data() : gathered.data(),
                                        gathered.empty() ? wbuf.size() : gathered.size());
      if (st.kind != Step::Done) {
        if (!reading) s->write_pending_ = true;
        return s->sock_.async_wait(st.kind == Step::WantRead ? tcp::socket::wait_read : tcp::socket::wait_write,
                                   std::move(self));
      }
      if (!reading) s->write_pending_ = false;
      if (!first) return self.complete(st.ec, st.n);
      finished = true;
      result_ec = st.ec;
      result_n = st.n;
      auto ex = s->sock_.get_executor();
      asio::post(ex, std::move(self));
    }
  };

  // Up to one TLS record's worth of the sequence: the first buffer alone when it is big enough,
  // otherwise the buffers copied together so small messages do not each become a record.
  template <class ConstBuffers>
  static void gather(const ConstBuffers& b, IoOp& op) {
    constexpr std::size_t kRecord = 16 * 1024;
    auto it = asio::buffer_sequence_begin(b), end = asio::buffer_sequence_end(b);
    while (it != end && asio::const_buffer(*it).size() == 0) ++it;
    if (it == end) return;
    asio::const_buffer first(*it);
    auto next = it;
    if (first.size() >= kRecord || ++next == end) {
      op.wbuf = first;
      return;
    }
    for (; it != end && op.gathered.size() < kRecord; ++it) {
      asio::const_buffer c(*it);
      std::size_t take = std::min(c.size(), kRecord - op.gathered.size());
      op.gathered.append(static_cast<const char*>(c.data()), take);
    }
  }

  tcp::socket sock_;
  SSL* ssl_ = nullptr;
  bool write_pending_ = false;  // SSL_write asked to be retried: nothing else may be written
  bool failed_ = false;         // a fatal TLS error: no close_notify
  bool notified_ = false;       // close_notify sent
};

}  // namespace pgopt::pooler::tls
