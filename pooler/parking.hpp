// Where a worker keeps its parked (long idle) client sockets: one epoll set outside Asio.
#pragma once

#include <cstdint>
#include <memory>

#include "pooler/net.hpp"

namespace pgopt::pooler {

// Asio keeps a pending wait per socket in a 320-byte block, on top of its 168-byte per-socket
// state. A parked client needs neither: its socket is taken from Asio (release()) and sits in this
// epoll set, which Asio watches as a single descriptor. The first event on a parked socket (bytes,
// EOF or an error) calls `wake` with the pointer it was added with, on the worker's thread; the
// callee removes it and hands the socket back to Asio.
//
// The same set serves a second purpose with other events (Worker::hangups): clients waiting for a
// server are watched for EPOLLRDHUP only, so a client that closes its socket while queued leaves
// the queue at once, without a read that would take its pipelined bytes off the socket.
class ParkingLot {
 public:
  using WakeFn = void (*)(void* who);
  static constexpr uint32_t kReadable = 0x001 | 0x2000;  // EPOLLIN | EPOLLRDHUP
  static constexpr uint32_t kHangup = 0x2000;            // EPOLLRDHUP (EPOLLHUP/ERR always count)
  ParkingLot(asio::io_context& ctx, WakeFn wake, uint32_t events = kReadable);
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
  uint32_t events_;
  size_t parked_ = 0;
};

}  // namespace pgopt::pooler
