// The HTTP endpoint for Prometheus (/metrics) and load balancers (/healthz), on metrics_addr:port.
#pragma once

#include <functional>
#include <list>
#include <memory>
#include <string>
#include <variant>

#include "pooler/metrics/scrape.hpp"
#include "pooler/net.hpp"

namespace pgopt::pooler::metrics {

// HTTP/1.1 with Boost.Beast's parser: one coroutine per connection, keep-alive, requests bounded
// (8 KiB of headers, 1 KiB of body) and timed out, at most kMaxConnections at once. Everything runs
// on the one executor it is started on (the daemon's main thread), so it takes no locks.
//
// Slow clients cannot lock health checks out: when all kMaxConnections are open, a new connection
// is still taken and the one that has waited longest for its request (or is lingering after its
// reply) is closed instead, so a flood of connections that send nothing, or a byte at a time, only
// ever delays /healthz by one accept. A connection is refused only when every one open is busy
// answering (a reply being gathered or written).
class Endpoint : public std::enable_shared_from_this<Endpoint> {
 public:
  static constexpr size_t kMaxConnections = 64;

  // What the endpoint shows, given by its owner (the daemon: ops/metrics_gather.hpp), so that this
  // folder never reads the runtime that includes it.
  struct Sources {
    std::function<awaitable<Snapshot>()> gather;  // the whole /metrics page's data
    std::function<bool()> accepting;              // /healthz: 200 while new clients are taken
  };

  // Listens on addr:port; an error message when it cannot.
  static std::variant<std::shared_ptr<Endpoint>, std::string> start(Sources sources, asio::any_io_executor exec,
                                                                     const std::string& addr, int port);
  // Closes the listener and every connection. Call on the executor's thread (or once it stopped).
  void stop();
  uint16_t port() const { return port_; }

  Endpoint(Sources sources, asio::any_io_executor exec) : sources_(std::move(sources)), acceptor_(exec) {}

 private:
  static awaitable<void> accept_loop(std::shared_ptr<Endpoint> self);
  static awaitable<void> serve(std::shared_ptr<Endpoint> self, tcp::socket sock);

  // What an open connection is doing, for choosing one to close when all slots are taken.
  enum class Phase { Reading, Answering, Lingering, Closing };  // Closing: evicted, or stop()
  struct Slot {
    tcp::socket* socket;
    Phase phase;
    std::chrono::steady_clock::time_point since;  // when the current phase began
  };
  using Slots = std::list<Slot>;
  // Makes room for one more connection: closes the lingering or longest-reading one. False when
  // every open connection is answering a request.
  bool evict_one();

  Sources sources_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  bool stopped_ = false;
  Slots conns_;  // open connections, in accept order, for stop() and evict_one()
};

}  // namespace pgopt::pooler::metrics
