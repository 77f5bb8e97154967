// The dock a transaction-mode relay waits in between transactions: board() resumes the docked
// relay with what it hands over, after the caller's step and never inside it; it refuses when
// nothing is docked; a second relay docking ends the first; destroying the dock (a session parked
// or gone) destroys the docked coroutine, and the post that resumes a relay keeps its owner alive.
#include <gtest/gtest.h>

#include "pooler/relay_dock.hpp"
#include "pooler/spawn.hpp"

namespace pgopt::pooler {
namespace {

using TestDock = Dock<int>;

// Sets `flag` when the coroutine frame holding it is destroyed.
struct Witness {
  std::shared_ptr<bool> flag;
  ~Witness() {
    if (flag) *flag = true;
  }
};

// A relay's life in miniature: docks `rounds` times, records each value handed over.
awaitable<void> relay(TestDock& dock, std::vector<int>& got, int rounds, std::shared_ptr<bool> destroyed) {
  Witness w{std::move(destroyed)};
  for (int i = 0; i < rounds; ++i) {
    co_await dock.wait(asio::use_awaitable);
    got.push_back(dock.take());
  }
}

TEST(RelayDock, BoardResumesTheDockedRelayAfterTheCallersStep) {
  asio::io_context ctx;
  TestDock dock;
  std::vector<int> got;
  auto destroyed = std::make_shared<bool>(false);
  EXPECT_FALSE(dock.board(1, nullptr, ctx.get_executor())) << "nothing docked yet";
  spawn(ctx, relay(dock, got, 2, destroyed), "test relay");
  ctx.poll();
  ASSERT_TRUE(dock.occupied());
  EXPECT_TRUE(dock.board(7, nullptr, ctx.get_executor()));
  EXPECT_FALSE(dock.occupied());
  EXPECT_TRUE(got.empty()) << "resumed by a post, not inside board()";
  EXPECT_FALSE(dock.board(8, nullptr, ctx.get_executor())) << "the relay is running, not docked";
  ctx.poll();
  EXPECT_EQ(got, std::vector<int>{7});
  ASSERT_TRUE(dock.occupied()) << "docked again for the next round";
  EXPECT_TRUE(dock.board(9, nullptr, ctx.get_executor()));
  ctx.poll();
  EXPECT_EQ(got, (std::vector<int>{7, 9}));
  EXPECT_TRUE(*destroyed) << "finished after its rounds";
  EXPECT_FALSE(dock.occupied());
}

TEST(RelayDock, DestroyingTheDockEndsTheDockedRelay) {
  asio::io_context ctx;
  std::vector<int> got;
  auto destroyed = std::make_shared<bool>(false);
  {
    TestDock dock;
    spawn(ctx, relay(dock, got, 5, destroyed), "test relay");
    ctx.poll();
    ASSERT_TRUE(dock.occupied());
  }
  ctx.poll();  // Asio unwinds an abandoned coroutine on its executor
  EXPECT_TRUE(*destroyed);
  EXPECT_TRUE(got.empty());
}

TEST(RelayDock, ASecondRelayDockingEndsTheFirst) {
  asio::io_context ctx;
  TestDock dock;
  std::vector<int> first_got, second_got;
  auto first_destroyed = std::make_shared<bool>(false), second_destroyed = std::make_shared<bool>(false);
  spawn(ctx, relay(dock, first_got, 5, first_destroyed), "first relay");
  ctx.poll();
  spawn(ctx, relay(dock, second_got, 1, second_destroyed), "second relay");
  ctx.poll();
  EXPECT_TRUE(*first_destroyed);
  EXPECT_FALSE(*second_destroyed);
  ASSERT_TRUE(dock.board(3, nullptr, ctx.get_executor()));
  ctx.poll();
  EXPECT_TRUE(first_got.empty());
  EXPECT_EQ(second_got, std::vector<int>{3});
  EXPECT_TRUE(*second_destroyed);
}

TEST(RelayDock, ThePostKeepsTheOwnerAliveUntilTheRelayRuns) {
  asio::io_context ctx;
  TestDock dock;
  std::vector<int> got;
  auto destroyed = std::make_shared<bool>(false);
  spawn(ctx, relay(dock, got, 1, destroyed), "test relay");
  ctx.poll();
  auto owner = std::make_shared<int>(42);
  std::weak_ptr<int> weak = owner;
  ASSERT_TRUE(dock.board(5, std::move(owner), ctx.get_executor()));
  EXPECT_FALSE(weak.expired()) << "held by the post";
  ctx.poll();
  EXPECT_TRUE(weak.expired()) << "let go once the relay ran";
  EXPECT_EQ(got, std::vector<int>{5});
}

}  // namespace
}  // namespace pgopt::pooler
