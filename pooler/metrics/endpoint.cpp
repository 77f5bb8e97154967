// The HTTP endpoint for Prometheus (/metrics) and load balancers (/healthz), with Boost.Beast.
#include "pooler/metrics/endpoint.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "pooler/log.hpp"
#include "pooler/metrics/exposition.hpp"
#include "pooler/spawn.hpp"

namespace pgopt::pooler::metrics {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr uint32_t kMaxHeader = 8 * 1024;
constexpr uint64_t kMaxBody = 1024;
constexpr auto kIdleTimeout = std::chrono::seconds(30);    // a keep-alive connection between scrapes
constexpr auto kRequestTimeout = std::chrono::seconds(5);  // a new connection's whole first request
constexpr auto kIoTimeout = std::chrono::seconds(10);      // one response on its way

std::string_view path_of(std::string_view target) {
  auto q = target.find_first_of("?#");
  return q == std::string_view::npos ? target : target.substr(0, q);
}

}  // namespace

std::variant<std::shared_ptr<Endpoint>, std::string> Endpoint::start(Sources sources, asio::any_io_executor exec,
                                                                     const std::string& addr, int port) {
  auto ep = std::make_shared<Endpoint>(std::move(sources), exec);
  error_code ec;
  auto address = asio::ip::make_address(addr, ec);
  if (ec) return fmt::format("metrics_addr \"{}\" is not an IP address", addr);
  tcp::endpoint where(address, uint16_t(port));
  ep->acceptor_.open(where.protocol(), ec);
  if (!ec) ep->acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) ep->acceptor_.bind(where, ec);
  if (!ec) ep->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fmt::format("cannot listen on {}:{} for metrics: {}", addr, port, ec.message());
  ep->port_ = ep->acceptor_.local_endpoint(ec).port();
  spawn(exec, accept_loop(ep), "the metrics listener");
  return ep;
}

void Endpoint::stop() {
  stopped_ = true;
  error_code ec;
  acceptor_.close(ec);
  for (Slot& s : conns_) s.socket->close(ec);
}

bool Endpoint::evict_one() {
  Slot* victim = nullptr;
  size_t live = 0;
  for (Slot& s : conns_) {
    if (s.phase == Phase::Closing) continue;  // already on its way out; its slot frees shortly
    ++live;
    if (s.phase == Phase::Lingering && (!victim || victim->phase != Phase::Lingering)) victim = &s;
    if (s.phase == Phase::Reading && (!victim || (victim->phase == Phase::Reading && s.since < victim->since)))
      victim = &s;
  }
  if (live < kMaxConnections) return true;
  if (!victim) return false;
  const auto waited = std::chrono::steady_clock::now() - victim->since;
  log::debug("metrics endpoint: {} connections open, closing one {} for {} ms", kMaxConnections,
             victim->phase == Phase::Lingering ? "lingering after its reply" : "waiting for a request",
             std::chrono::duration_cast<std::chrono::milliseconds>(waited).count());
  victim->phase = Phase::Closing;
  error_code ec;
  victim->socket->close(ec);  // its read completes with operation_aborted and its coroutine ends
  return true;
}

awaitable<void> Endpoint::accept_loop(std::shared_ptr<Endpoint> self) {
  while (!self->stopped_) {
    auto [ec, sock] = co_await self->acceptor_.async_accept(nothrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) co_return;
      log::warn("metrics endpoint: accept failed: {}", ec.message());
      asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(100));
      co_await t.async_wait(nothrow);
      continue;
    }
    if (!self->evict_one()) {
      log::warn("metrics endpoint: {} connections are all answering requests, closing a new one",
                kMaxConnections);
      continue;  // `sock` closes here
    }
    spawn(self->acceptor_.get_executor(), serve(self, std::move(sock)), "a metrics connection");
  }
}

awaitable<void> Endpoint::serve(std::shared_ptr<Endpoint> self, tcp::socket sock) {
  beast::tcp_stream stream(std::move(sock));
  // Registered for stop() for as long as this frame lives, however it ends.
  struct Registration {
    Slots& list;
    Slots::iterator it;
    ~Registration() { list.erase(it); }
    void enter(Phase p) {
      if (it->phase == Phase::Closing) return;  // evicted: stays so until the frame ends
      it->phase = p;
      it->since = std::chrono::steady_clock::now();
    }
    bool evicted() const { return it->phase == Phase::Closing; }
  } registration{self->conns_, self->conns_.insert(self->conns_.end(), Slot{&stream.socket(), Phase::Reading,
                                                                             std::chrono::steady_clock::now()})};
  beast::flat_buffer buf(kMaxHeader + kMaxBody);
  for (bool first = true; !self->stopped_; first = false) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kMaxHeader);
    parser.body_limit(kMaxBody);
    registration.enter(Phase::Reading);
    // One deadline for the whole request, not per read: a client trickling a byte at a time
    // (slowloris) is closed as surely as one that sends nothing.
    stream.expires_after(first ? kRequestTimeout : kIdleTimeout);
    auto [ec, n] = co_await http::async_read(stream, buf, parser, nothrow);
    (void)n;
    if (self->stopped_ || registration.evicted()) break;
    registration.enter(Phase::Answering);
    http::response<http::string_body> res;
    res.version(11);
    res.set(http::field::server, "pgopt");
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    bool head = false;
    if (ec == http::error::header_limit || ec == http::error::body_limit || ec == http::error::buffer_overflow) {
      res.result(http::status::payload_too_large);
      res.body() = "request too large\n";
      res.keep_alive(false);
    } else if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::eof ||
               ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
      break;  // the client is gone, or idled past the timeout
    } else if (ec) {
      res.result(http::status::bad_request);
      res.body() = "bad request\n";
      res.keep_alive(false);
    } else {
      const auto& req = parser.get();
      res.version(req.version());
      res.keep_alive(req.keep_alive());
      const std::string_view path = path_of({req.target().data(), req.target().size()});
      const bool get = req.method() == http::verb::get;
      head = req.method() == http::verb::head;
      if (path != "/metrics" && path != "/healthz") {
        res.result(http::status::not_found);
        res.body() = "not found: /metrics and /healthz are served here\n";
      } else if (!get && !head) {
        res.result(http::status::method_not_allowed);
        res.set(http::field::allow, "GET, HEAD");
        res.body() = "method not allowed\n";
      } else if (path == "/healthz") {
        // Load balancers: healthy while new clients are accepted; a draining pooler sends them elsewhere.
        const bool ok = self->sources_.accepting();
        res.result(ok ? http::status::ok : http::status::service_unavailable);
        res.body() = ok ? "ok\n" : "draining\n";
      } else {
        Snapshot snap = co_await self->sources_.gather();
        if (self->stopped_) break;
        res.result(http::status::ok);
        res.set(http::field::content_type, std::string(kContentType));
        res.body() = render(snap);
      }
    }
    res.prepare_payload();
    if (head) res.body().clear();  // Content-Length stays that of the GET answer
    stream.expires_after(kIoTimeout);
    auto [wec, wn] = co_await http::async_write(stream, res, nothrow);
    (void)wn;
    if (wec || !res.keep_alive()) break;
  }
  // Lingering close: what the client sent beyond what was read (an oversized request) is read and
  // dropped for a moment, so closing does not reset the connection before the reply is read.
  // A lingering connection is the first one evict_one() closes.
  if (registration.evicted()) co_return;
  registration.enter(Phase::Lingering);
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.expires_after(std::chrono::seconds(1));
  char sink[4096];
  for (size_t drained = 0; !self->stopped_ && drained < 64 * 1024;) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), nothrow);
    if (ec) break;
    drained += n;
  }
}

}  // namespace pgopt::pooler::metrics
