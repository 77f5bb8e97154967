// Patroni's REST API as the second source of a multi-host database's primary (patroni_urls): one
// HTTP/1.0 GET /cluster per round, over TLS for https:// URLs, the body read to its end (Patroni
// closes the connection).
#include <fmt/format.h>

#include <boost/asio/ssl.hpp>

#include "pooler/failover.hpp"
#include "pooler/log.hpp"
#include "pooler/topology/patroni.hpp"

namespace pgopt::pooler {

using namespace asio::experimental::awaitable_operators;

namespace {

namespace ssl = asio::ssl;

// A /cluster body of three members is about 1 KB; anything this large is not Patroni.
constexpr size_t kMaxBody = 1 << 20;
constexpr std::chrono::milliseconds kMinPerUrl{200};

struct Answer {
  std::string body, error;
};

// Sends the request on a connected stream (plain or TLS) and reads the reply to its end.
template <class Stream>
awaitable<Answer> exchange(Stream& stream, const PatroniUrl& url) {
  Answer a;
  const bool v6 = url.host.find(':') != std::string::npos;
  const std::string req = fmt::format("GET /cluster HTTP/1.0\r\nHost: {}{}{}:{}\r\nAccept: application/json\r\n\r\n",
                                      v6 ? "[" : "", url.host, v6 ? "]" : "", url.port);
  auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(req), nothrow);
  (void)wn;
  if (wec) {
    a.error = wec.message();
    co_return a;
  }
  std::string reply;
  auto [rec, rn] = co_await asio::async_read(stream, asio::dynamic_buffer(reply, kMaxBody), nothrow);
  (void)rn;
  // Patroni closes after its reply, over TLS often without a close_notify (Python's ssl module):
  // a truncated stream there is the end of the body, as EOF is in plain HTTP.
  if (rec && rec != asio::error::eof && rec != ssl::error::stream_truncated) {
    a.error = rec.message();
    co_return a;
  }
  // "HTTP/1.x 200 ...": anything else (503 while Patroni starts) is no answer.
  if (reply.size() < 12 || reply.compare(0, 5, "HTTP/") != 0 || reply.compare(9, 3, "200") != 0) {
    a.error = "HTTP status " + reply.substr(0, reply.find('\r'));
    co_return a;
  }
  const size_t start = reply.find("\r\n\r\n");
  a.body = start == std::string::npos ? std::string() : reply.substr(start + 4);
  co_return a;
}

// A client context that verifies the API's certificate chain against patroni_ca_file (or the
// system's roots) and, per connection, its host name, with the database's client certificate if
// it has one (verify_client: required). Built per round: renewed files need no reload.
std::unique_ptr<ssl::context> tls_context(const DatabaseConfig& db, std::string& error) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  error_code ec;
  ctx->set_options(ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                   ssl::context::no_tlsv1_1, ec);
  ctx->set_verify_mode(ssl::verify_peer, ec);
  if (db.patroni_ca_file.empty())
    ctx->set_default_verify_paths(ec);
  else
    ctx->load_verify_file(db.patroni_ca_file, ec);
  if (ec) {
    error = fmt::format("patroni_ca_file {}: {}", db.patroni_ca_file.empty() ? "(system roots)" : db.patroni_ca_file,
                        ec.message());
    return nullptr;
  }
  if (!db.patroni_cert_file.empty()) {
    ctx->use_certificate_chain_file(db.patroni_cert_file, ec);
    if (!ec) ctx->use_private_key_file(db.patroni_key_file, ssl::context::pem, ec);
    if (ec) {
      error = fmt::format("patroni_cert_file {} / patroni_key_file {}: {}", db.patroni_cert_file, db.patroni_key_file,
                          ec.message());
      return nullptr;
    }
  }
  return ctx;
}

awaitable<Answer> attempt(const PatroniUrl& url, ssl::context* tls) {
  auto exec = co_await asio::this_coro::executor;
  tcp::resolver resolver(exec);
  auto [rec, endpoints] = co_await resolver.async_resolve(url.host, std::to_string(url.port), nothrow);
  if (rec) co_return Answer{{}, "cannot resolve: " + rec.message()};
  tcp::socket sock(exec);
  auto [cec, ep] = co_await asio::async_connect(sock, endpoints, nothrow);
  (void)ep;
  if (cec) co_return Answer{{}, cec.message()};
  if (!url.https) {
    Answer a = co_await exchange(sock, url);
    co_return a;
  }
  ssl::stream<tcp::socket> stream(std::move(sock), *tls);
  // SNI for a name (never for an address, RFC 6066), and the name or address checked against the
  // certificate's subjectAltName.
  error_code addr_ec;
  (void)asio::ip::make_address(url.host, addr_ec);
  if (addr_ec) SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str());
  stream.set_verify_callback(ssl::host_name_verification(url.host));
  auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, nothrow);
  if (hec) co_return Answer{{}, "TLS: " + hec.message()};
  Answer a = co_await exchange(stream, url);
  co_return a;
}

// The body of GET /cluster at `url`, or an error text; bounded by `timeout` in all.
awaitable<Answer> get_cluster(const PatroniUrl& url, ssl::context* tls, std::chrono::milliseconds timeout) {
  asio::steady_timer deadline(co_await asio::this_coro::executor, timeout);
  auto which = co_await (attempt(url, tls) || deadline.async_wait(nothrow));
  if (which.index() == 1) co_return Answer{{}, fmt::format("no answer within {} ms", timeout.count())};
  Answer a = std::get<0>(std::move(which));
  co_return a;
}

}  // namespace

awaitable<topology::PatroniView> ask_patroni(const std::vector<PatroniUrl>& urls, const std::vector<HostConfig>& members,
                                             const DatabaseConfig& tls_files, std::chrono::milliseconds timeout,
                                             std::vector<std::string>& errors) {
  topology::PatroniView view;
  errors.resize(urls.size());
  if (urls.empty()) co_return view;
  std::unique_ptr<ssl::context> tls;
  std::string tls_error;
  if (std::any_of(urls.begin(), urls.end(), [](const PatroniUrl& u) { return u.https; }))
    tls = tls_context(tls_files, tls_error);
  const auto per_url = std::max(kMinPerUrl, timeout / int(urls.size()));
  std::vector<std::pair<std::string, int>> hosts;
  for (const auto& m : members) hosts.emplace_back(m.host, m.port);
  for (size_t i = 0; i < urls.size(); ++i) {
    const auto& url = urls[i];
    // Not a ?: around the co_await: GCC 12 miscompiles a co_await inside a conditional expression.
    Answer a{{}, tls_error};
    if (!url.https || tls) a = co_await get_cluster(url, tls.get(), per_url);
    if (!a.error.empty()) {
      errors[i] = std::move(a.error);
      continue;
    }
    auto cluster = topology::parse_patroni_cluster(a.body);
    if (!cluster) {
      errors[i] = "GET /cluster did not return Patroni's JSON";
      continue;
    }
    errors[i].clear();
    view.answered = true;
    view.leader = topology::patroni_leader(*cluster, hosts);
    co_return view;
  }
  co_return view;
}

}  // namespace pgopt::pooler
