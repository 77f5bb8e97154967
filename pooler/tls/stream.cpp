// A TCP socket that may switch to TLS: OpenSSL on the descriptor, Asio for readiness.
#include "pooler/tls/stream.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <boost/asio/ssl/error.hpp>
#include <climits>
#include <cstring>

#include <fmt/format.h>

namespace pgopt::pooler::tls {

namespace {

// The first error OpenSSL queued, as text; the queue is emptied so the next call starts clean.
std::string openssl_error() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return {};
#ifdef ERR_SYSTEM_ERROR
  if (ERR_SYSTEM_ERROR(e)) return std::strerror(ERR_GET_REASON(e));  // "No such file or directory"
#endif
  if (const char* reason = ERR_reason_error_string(e)) return reason;
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

}  // namespace

Stream::~Stream() {
  if (ssl_) SSL_free(ssl_);
}

std::string Stream::describe() const {
  if (!ssl_) return {};
  return fmt::format("{} {}", SSL_get_version(ssl_), SSL_get_cipher_name(ssl_));
}

awaitable<std::string> Stream::accept(SSL_CTX* ctx) {
  ssl_ = SSL_new(ctx);
  if (!ssl_) co_return "SSL_new: " + openssl_error();
  co_return co_await handshake(true);
}

awaitable<std::string> Stream::connect(SSL_CTX* ctx, const std::string& host, bool check_host) {
  ssl_ = SSL_new(ctx);
  if (!ssl_) co_return "SSL_new: " + openssl_error();
  in6_addr ip6;
  in_addr ip4;
  const bool is_ip = inet_pton(AF_INET, host.c_str(), &ip4) == 1 || inet_pton(AF_INET6, host.c_str(), &ip6) == 1;
  // SNI is for names only (RFC 6066), as libpq does it.
  if (!is_ip && !host.empty()) SSL_set_tlsext_host_name(ssl_, host.c_str());
  if (check_host) {
    // An IP address must appear as an iPAddress entry; a name as a DNS name (or the CN).
    int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host.c_str())
                   : SSL_set1_host(ssl_, host.c_str());
    if (ok != 1) co_return fmt::format("cannot check the certificate for host \"{}\": {}", host, openssl_error());
  }
  co_return co_await handshake(false);
}

awaitable<std::string> Stream::handshake(bool as_server) {
  error_code ec;
  sock_.non_blocking(true, ec);
  if (ec || SSL_set_fd(ssl_, sock_.native_handle()) != 1) {
    failed_ = true;
    co_return "cannot attach TLS to the socket: " + (ec ? ec.message() : openssl_error());
  }
  for (;;) {
    ERR_clear_error();
    int r = as_server ? SSL_accept(ssl_) : SSL_connect(ssl_);
    if (r == 1) co_return std::string();
    int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      auto [wec] = co_await sock_.async_wait(e == SSL_ERROR_WANT_READ ? tcp::socket::wait_read : tcp::socket::wait_write,
                                             nothrow);
      if (wec) {
        failed_ = true;
        co_return "TLS handshake interrupted: " + wec.message();
      }
      continue;
    }
    failed_ = true;
    std::string why = openssl_error();
    long verify = SSL_get_verify_result(ssl_);
    if (verify != X509_V_OK) why = fmt::format("certificate verify failed: {}", X509_verify_cert_error_string(verify));
    if (why.empty()) why = e == SSL_ERROR_SYSCALL ? "connection closed during the TLS handshake" : "TLS handshake failed";
    co_return why;
  }
}

Stream::Step Stream::read_step(void* data, std::size_t size) {
  Step st;
  // The SSL keeps the descriptor's number: once closed, that number may already be someone else's.
  if (!sock_.is_open()) st.ec = asio::error::bad_descriptor;
  if (size == 0 || st.ec) return st;
  ERR_clear_error();
  int r = SSL_read(ssl_, data, int(std::min<std::size_t>(size, INT_MAX)));
  if (r > 0) {
    st.n = std::size_t(r);
    return st;
  }
  int e = SSL_get_error(ssl_, r);
  if (e == SSL_ERROR_WANT_READ) {
    st.kind = Step::WantRead;
  } else if (e == SSL_ERROR_WANT_WRITE) {
    st.kind = Step::WantWrite;
  } else if (e == SSL_ERROR_ZERO_RETURN) {
    st.ec = asio::error::eof;  // close_notify: the peer is done, as a plain EOF would say
  } else {
    failed_ = true;
    unsigned long code = ERR_peek_error();
    ERR_clear_error();
    if (code != 0)
      st.ec = error_code(int(code), asio::error::get_ssl_category());
    else
      st.ec = e == SSL_ERROR_SYSCALL && errno != 0 ? error_code(errno, boost::system::system_category())
                                                   : error_code(asio::error::eof);
  }
  return st;
}

Stream::Step Stream::write_step(const void* data, std::size_t size) {
  Step st;
  if (!sock_.is_open()) st.ec = asio::error::bad_descriptor;
  if (size == 0 || st.ec) return st;
  ERR_clear_error();
  int r = SSL_write(ssl_, data, int(std::min<std::size_t>(size, INT_MAX)));
  if (r > 0) {
    st.n = std::size_t(r);
    return st;
  }
  int e = SSL_get_error(ssl_, r);
  if (e == SSL_ERROR_WANT_WRITE) {
    st.kind = Step::WantWrite;
  } else if (e == SSL_ERROR_WANT_READ) {
    st.kind = Step::WantRead;
  } else {
    failed_ = true;
    unsigned long code = ERR_peek_error();
    ERR_clear_error();
    if (code != 0)
      st.ec = error_code(int(code), asio::error::get_ssl_category());
    else
      st.ec = e == SSL_ERROR_SYSCALL && errno != 0 ? error_code(errno, boost::system::system_category())
                                                   : error_code(asio::error::broken_pipe);
  }
  return st;
}

void Stream::send_now(std::string_view data) {
  if (!sock_.is_open()) return;
  error_code ec;
  sock_.non_blocking(true, ec);
  if (!ssl_) {
    ::send(sock_.native_handle(), data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    return;
  }
  if (write_pending_ || failed_ || !SSL_is_init_finished(ssl_)) return;
  ERR_clear_error();
  if (SSL_write(ssl_, data.data(), int(data.size())) <= 0) ERR_clear_error();
}

std::size_t Stream::write_now(const void* data, std::size_t size, error_code& ec) {
  if (ssl_ || size == 0) return 0;
  for (;;) {
    const ssize_t n = ::send(sock_.native_handle(), data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) return std::size_t(n);
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) ec = error_code(errno, asio::error::get_system_category());
    return 0;
  }
}

void Stream::close_notify() {
  if (!ssl_ || notified_ || failed_ || write_pending_ || !sock_.is_open() || !SSL_is_init_finished(ssl_)) return;
  notified_ = true;
  ERR_clear_error();
  SSL_shutdown(ssl_);  // non-blocking: queues and tries to send the alert, never waits for the reply
  ERR_clear_error();
}

void Stream::shutdown(tcp::socket::shutdown_type what, error_code& ec) {
  if (what != tcp::socket::shutdown_receive) close_notify();
  sock_.shutdown(what, ec);
}

void Stream::close(error_code& ec) {
  close_notify();
  sock_.close(ec);
}

bool Stream::buffered() const { return SSL_has_pending(ssl_) == 1; }

bool Stream::has_unread() const {
  if (ssl_ && SSL_has_pending(ssl_)) return true;
  if (!sock_.is_open()) return false;
  uint8_t b;
  ssize_t n = ::recv(const_cast<tcp::socket&>(sock_).native_handle(), &b, 1, MSG_PEEK | MSG_DONTWAIT);
  return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
}

void Stream::rebind(const asio::any_io_executor& exec) {
  error_code ec;
  auto proto = sock_.local_endpoint(ec).protocol();
  int fd = sock_.release(ec);
  if (ec) {
    sock_.close(ec);
    return;
  }
  sock_ = tcp::socket(exec, proto, fd);
  // OpenSSL reads and writes the descriptor itself, so it must stay non-blocking on the new socket.
  if (ssl_) sock_.non_blocking(true, ec);
}

}  // namespace pgopt::pooler::tls
