#include "pooler/fleet/cancel_forward.hpp"

#include <fmt/format.h>

namespace pgopt::pooler::fleet {

using namespace asio::experimental::awaitable_operators;

awaitable<std::string> forward_cancel(const PeerConfig& peer, protocol::CancelKey key,
                                      std::chrono::milliseconds timeout) {
  auto exec = co_await asio::this_coro::executor;
  std::string error;
  asio::steady_timer deadline(exec, timeout);
  auto attempt = [&]() -> awaitable<void> {
    tcp::resolver resolver(exec);
    auto [rec, endpoints] = co_await resolver.async_resolve(peer.host, std::to_string(peer.port), nothrow);
    if (rec) {
      error = fmt::format("could not resolve peer {}: {}", peer.host, rec.message());
      co_return;
    }
    tcp::socket sock(exec);
    auto [cec, ep] = co_await asio::async_connect(sock, endpoints, nothrow);
    (void)ep;
    if (cec) {
      error = fmt::format("could not connect to peer {}:{}: {}", peer.host, peer.port, cec.message());
      co_return;
    }
    std::string packet;
    protocol::forwarded_cancel_request(packet, key);
    auto [wec, n] = co_await asio::async_write(sock, asio::buffer(packet), nothrow);
    (void)n;
    if (wec) error = fmt::format("could not send to peer {}:{}: {}", peer.host, peer.port, wec.message());
    // Closed here: the peer answers a cancel with nothing, so there is nothing to wait for.
  };
  auto which = co_await (attempt() || deadline.async_wait(nothrow));
  if (which.index() == 1)
    error = fmt::format("timed out after {} ms forwarding to peer {}:{}", timeout.count(), peer.host, peer.port);
  co_return error;
}

}  // namespace pgopt::pooler::fleet
