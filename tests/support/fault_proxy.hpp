// A TCP proxy for tests that injects network faults between two endpoints without root or packet
// filters: stall, silent drop (half-open), slow trickle, close (FIN) and reset (RST), switchable
// while traffic flows.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace pgopt::test {

// What the proxy does to the bytes and connections it carries. It applies at once to every open
// connection and to every connection accepted while it is set.
enum class Fault {
  None,       // forward both ways
  Stall,      // read nothing, write nothing: the senders' socket buffers fill (a hung peer)
  Blackhole,  // read and discard both ways, never close: a half-open connection (the peer vanished
              // without a FIN or RST, as when a host or a NAT entry dies)
  Trickle,    // forward one byte per trickle interval in each direction (a slow link or slowloris)
  Close,      // close open connections with FIN both ways; accept new ones and close them at once
  Reset,      // the same with RST (SO_LINGER 0)
};
const char* name_of(Fault f);

// Listens on 127.0.0.1:port() (an ephemeral port) and connects each accepted client to
// 127.0.0.1:upstream_port (a refused upstream resets the client, as a down server would). One thread
// per connection plus the acceptor; each has an eventfd that set() and stop() write, so a switch
// takes effect at once, not after a poll period. Stops (joins every thread, closes every socket) in
// stop() or the destructor.
class FaultProxy {
 public:
  explicit FaultProxy(int upstream_port, std::chrono::milliseconds trickle_interval = std::chrono::milliseconds(20));
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }
  void set(Fault f);
  Fault fault() const { return fault_.load(); }
  // Connections open now (client side accepted and not yet closed), and accepted in all.
  int open_connections() const { return open_.load(); }
  uint64_t accepted() const { return accepted_.load(); }
  // Bytes forwarded (written to the other side) in each direction so far.
  uint64_t bytes_up() const { return up_.load(); }
  uint64_t bytes_down() const { return down_.load(); }
  void stop();

 private:
  struct Link;
  void accept_loop();
  void serve(std::shared_ptr<Link> link);
  void wake_all();

  int upstream_port_;
  std::chrono::milliseconds trickle_;
  int listen_fd_ = -1;
  int port_ = 0;
  int wake_fd_ = -1;  // the acceptor's eventfd
  std::atomic<Fault> fault_{Fault::None};
  std::atomic<bool> stopping_{false};
  std::atomic<int> open_{0};
  std::atomic<uint64_t> accepted_{0}, up_{0}, down_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::list<std::thread> threads_;
  std::list<std::weak_ptr<Link>> links_;
};

}  // namespace pgopt::test
