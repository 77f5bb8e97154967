// Where a worker keeps its parked (long idle) client sockets: one epoll set outside Asio.
#include "pooler/parking.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "pooler/log.hpp"

namespace pgopt::pooler {

static_assert(ParkingLot::kReadable == (EPOLLIN | EPOLLRDHUP) && ParkingLot::kHangup == EPOLLRDHUP);

ParkingLot::ParkingLot(asio::io_context& ctx, WakeFn wake, uint32_t events) : wake_(wake), events_(events) {
  int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) {
    log::warn("epoll_create1 failed ({}): idle clients are not parked", std::strerror(errno));
    return;
  }
  epoll_ = std::make_unique<asio::posix::stream_descriptor>(ctx, fd);
}

ParkingLot::~ParkingLot() = default;  // the stream_descriptor closes the epoll set

bool ParkingLot::add(int fd, void* who) {
  if (!epoll_) return false;
  epoll_event ev{};
  // Level-triggered: bytes (or a hang-up) that came before the socket was added still wake it.
  ev.events = events_;
  ev.data.ptr = who;
  if (::epoll_ctl(epoll_->native_handle(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    log::warn("cannot park a client socket: epoll_ctl: {}", std::strerror(errno));
    return false;
  }
  ++parked_;
  return true;
}

void ParkingLot::remove(int fd) {
  if (!epoll_) return;
  if (::epoll_ctl(epoll_->native_handle(), EPOLL_CTL_DEL, fd, nullptr) == 0) --parked_;
}

awaitable<void> ParkingLot::run() {
  if (!epoll_) co_return;
  std::array<epoll_event, 64> events;
  for (;;) {
    auto [ec] = co_await epoll_->async_wait(asio::posix::stream_descriptor::wait_read, nothrow);
    if (ec) co_return;  // the io_context is stopping
    int n = ::epoll_wait(epoll_->native_handle(), events.data(), int(events.size()), 0);
    // A wake removes its socket from the set. A session unparked by an earlier wake of the same batch
    // is still alive (it lets go of itself through a posted handler) and ignores the event.
    for (int i = 0; i < n; ++i) wake_(events[size_t(i)].data.ptr);
  }
}

}  // namespace pgopt::pooler
