// The parking lot: sockets watched outside Asio wake their owner on bytes, EOF or error, once.
#include "pooler/parking.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <vector>

namespace pgopt::pooler {
namespace {

std::vector<void*> woken;
ParkingLot* lot = nullptr;
std::vector<int> fd_of;  // by tag value

// As ClientSession::wake_parked does: the owner removes its socket when woken.
void wake(void* who) {
  woken.push_back(who);
  lot->remove(fd_of[size_t(reinterpret_cast<uintptr_t>(who))]);
}

struct Pair {
  int parked = -1, peer = -1;
  Pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    parked = fds[0];
    peer = fds[1];
  }
  ~Pair() {
    if (parked >= 0) ::close(parked);
    if (peer >= 0) ::close(peer);
  }
};

void run_for(asio::io_context& ctx, int ms) {
  ctx.restart();
  ctx.run_for(std::chrono::milliseconds(ms));
}

TEST(ParkingLot, WakesOnlyTheSocketThatGotBytesOrEofAndOnlyOnce) {
  asio::io_context ctx;
  ParkingLot parking(ctx, &wake);
  lot = &parking;
  woken.clear();
  Pair quiet, talks, hangs_up;
  fd_of = {quiet.parked, talks.parked, hangs_up.parked};
  ASSERT_TRUE(parking.add(quiet.parked, reinterpret_cast<void*>(uintptr_t(0))));
  ASSERT_TRUE(parking.add(talks.parked, reinterpret_cast<void*>(uintptr_t(1))));
  ASSERT_TRUE(parking.add(hangs_up.parked, reinterpret_cast<void*>(uintptr_t(2))));
  EXPECT_EQ(parking.size(), 3u);
  asio::co_spawn(ctx, parking.run(), asio::detached);
  run_for(ctx, 50);
  EXPECT_TRUE(woken.empty());  // nothing arrived yet

  ASSERT_EQ(::write(talks.peer, "Q", 1), 1);
  ::close(hangs_up.peer);
  hangs_up.peer = -1;
  run_for(ctx, 100);
  ASSERT_EQ(woken.size(), 2u);
  EXPECT_NE(std::find(woken.begin(), woken.end(), reinterpret_cast<void*>(uintptr_t(1))), woken.end());
  EXPECT_NE(std::find(woken.begin(), woken.end(), reinterpret_cast<void*>(uintptr_t(2))), woken.end());
  EXPECT_EQ(parking.size(), 1u);
  // The byte is still unread (the woken owner reads it), but a removed socket wakes nobody again.
  run_for(ctx, 50);
  EXPECT_EQ(woken.size(), 2u);
  char c;
  EXPECT_EQ(::read(talks.parked, &c, 1), 1);
  EXPECT_EQ(c, 'Q');
}

TEST(ParkingLot, BytesThatCameBeforeParkingStillWake) {
  asio::io_context ctx;
  ParkingLot parking(ctx, &wake);
  lot = &parking;
  woken.clear();
  Pair early;
  fd_of = {early.parked};
  ASSERT_EQ(::write(early.peer, "X", 1), 1);
  ASSERT_TRUE(parking.add(early.parked, nullptr));
  asio::co_spawn(ctx, parking.run(), asio::detached);
  run_for(ctx, 100);
  EXPECT_EQ(woken.size(), 1u);
  EXPECT_EQ(parking.size(), 0u);
}

TEST(ParkingLot, RefusesWhatEpollCannotWatch) {
  asio::io_context ctx;
  ParkingLot parking(ctx, &wake);
  EXPECT_FALSE(parking.add(-1, nullptr));
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  ::close(fds[1]);
  EXPECT_FALSE(parking.add(fds[0], nullptr));  // closed: the caller keeps its client on Asio
  EXPECT_EQ(parking.size(), 0u);
}

}  // namespace
}  // namespace pgopt::pooler
