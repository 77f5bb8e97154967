// Patroni's REST API as the second source of a multi-host database's primary (patroni_urls): a
// plain HTTP/1.0 GET /cluster per round, the body read to its end (Patroni closes the connection).
#include <fmt/format.h>

#include "pooler/failover.hpp"
#include "pooler/log.hpp"
#include "pooler/topology/patroni.hpp"

namespace pgopt::pooler {

using namespace asio::experimental::awaitable_operators;

namespace {

// A /cluster body of three members is about 1 KB; anything this large is not Patroni.
constexpr size_t kMaxBody = 1 << 20;
constexpr std::chrono::milliseconds kMinPerUrl{200};

// The body of GET /cluster at `url`, or an error text; bounded by `timeout` in all.
awaitable<std::pair<std::string, std::string>> get_cluster(const PatroniUrl& url, std::chrono::milliseconds timeout) {
  auto exec = co_await asio::this_coro::executor;
  std::string body, error;
  asio::steady_timer deadline(exec, timeout);
  auto attempt = [&]() -> awaitable<void> {
    tcp::resolver resolver(exec);
    auto [rec, endpoints] = co_await resolver.async_resolve(url.host, std::to_string(url.port), nothrow);
    if (rec) {
      error = "cannot resolve: " + rec.message();
      co_return;
    }
    tcp::socket sock(exec);
    auto [cec, ep] = co_await asio::async_connect(sock, endpoints, nothrow);
    (void)ep;
    if (cec) {
      error = cec.message();
      co_return;
    }
    const bool v6 = url.host.find(':') != std::string::npos;
    const std::string req = fmt::format("GET /cluster HTTP/1.0\r\nHost: {}{}{}:{}\r\nAccept: application/json\r\n\r\n",
                                        v6 ? "[" : "", url.host, v6 ? "]" : "", url.port);
    auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(req), nothrow);
    (void)wn;
    if (wec) {
      error = wec.message();
      co_return;
    }
    std::string reply;
    auto [rec2, rn] = co_await asio::async_read(sock, asio::dynamic_buffer(reply, kMaxBody), nothrow);
    (void)rn;
    if (rec2 && rec2 != asio::error::eof) {
      error = rec2.message();
      co_return;
    }
    // "HTTP/1.x 200 ...": anything else (503 while Patroni starts) is no answer.
    if (reply.size() < 12 || reply.compare(0, 5, "HTTP/") != 0 || reply.compare(9, 3, "200") != 0) {
      error = "HTTP status " + reply.substr(0, reply.find('\r'));
      co_return;
    }
    const size_t start = reply.find("\r\n\r\n");
    body = start == std::string::npos ? std::string() : reply.substr(start + 4);
  };
  auto which = co_await (attempt() || deadline.async_wait(nothrow));
  if (which.index() == 1) error = fmt::format("no answer within {} ms", timeout.count());
  co_return std::pair{std::move(body), std::move(error)};
}

}  // namespace

awaitable<topology::PatroniView> ask_patroni(const std::vector<PatroniUrl>& urls, const std::vector<HostConfig>& members,
                                             std::chrono::milliseconds timeout) {
  topology::PatroniView view;
  if (urls.empty()) co_return view;
  const auto per_url = std::max(kMinPerUrl, timeout / int(urls.size()));
  std::vector<std::pair<std::string, int>> hosts;
  for (const auto& m : members) hosts.emplace_back(m.host, m.port);
  for (const auto& url : urls) {
    auto [body, error] = co_await get_cluster(url, per_url);
    if (!error.empty()) {
      log::debug("patroni {}:{}: {}", url.host, url.port, error);
      continue;
    }
    auto cluster = topology::parse_patroni_cluster(body);
    if (!cluster) {
      log::debug("patroni {}:{}: GET /cluster did not return Patroni's JSON", url.host, url.port);
      continue;
    }
    view.answered = true;
    view.leader = topology::patroni_leader(*cluster, hosts);
    co_return view;
  }
  co_return view;
}

}  // namespace pgopt::pooler
