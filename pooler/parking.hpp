// Where a worker keeps its parked (long idle) client sockets: one epoll set outside Asio.
#pragma once

#include <memory>

#include "pooler/net.hpp"

namespace pgopt::pooler {

// Asio keeps a pending wait per socket in a 320-byte block, on top of its 168-byte per-socket
// state. A parked client needs neither: its socket is taken from Asio (release()) and sits in this
// epoll set, which Asio watches as a single descriptor. The first event on a parked socket (bytes,
// EOF or an error) calls `wake` with the pointer it was added with, on the worker's thread; the
// callee removes it and hands the socket back to Asio.
class ParkingLot {
 public:
  using WakeFn = void (*)(void* who);
  ParkingLot(asio::io_context& ctx, WakeFn wake);
  ~ParkingLot();
  ParkingLot(const ParkingLot&) = delete;
  ParkingLot& operator=(const ParkingLot&) = delete;

  // False when the socket cannot be watched (no epoll set, or epoll_ctl failed): the caller keeps
  // the client on Asio instead.
  bool add(int fd, void* who);
  void remove(int fd);
  awaitable<void> run();  // the worker's watch loop, until the io_context stops
  size_t size() const { return parked_; }

 private:
  std::unique_ptr<asio::posix::stream_descriptor> epoll_;  // null when epoll_create1 failed
  WakeFn wake_;
  size_t parked_ = 0;
};

}  // namespace pgopt::pooler
