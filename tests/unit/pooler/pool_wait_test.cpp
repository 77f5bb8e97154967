// A client queued in Pool::acquire can give up its place at once (its socket closed), a ticket of a
// client that got a server does nothing, and try_acquire takes only what is free now.
#include <gtest/gtest.h>

#include "pooler/pool.hpp"

namespace pgopt::pooler {
namespace {

TEST(PoolWait, AQueuedClientThatGivesUpLeavesTheQueueAtOnce) {
  asio::io_context ctx;
  DatabaseGroup group;
  Pool pool("db", "user", "", 1, &group);
  PoolLimits limits{1, 0, std::chrono::milliseconds(1000)};
  Pool::Acquired first, second;
  Pool::WaitTicket ticket;
  bool queued = false;
  ticket.on_queued = [&] { queued = true; };
  asio::co_spawn(ctx, [&]() -> awaitable<void> { first = co_await pool.acquire(0, std::chrono::seconds(30), limits); },
                 asio::detached);
  asio::co_spawn(
      ctx, [&]() -> awaitable<void> { second = co_await pool.acquire(0, std::chrono::seconds(30), limits, &ticket); },
      asio::detached);
  ctx.run_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(first.slot) << "the first client takes the only slot";
  ASSERT_TRUE(queued) << "the second client waits";
  EXPECT_EQ(pool.counts().waiting, 1);
  ticket.give_up();
  ctx.restart();
  ctx.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(pool.counts().waiting, 0);
  EXPECT_FALSE(second.server);
  EXPECT_EQ(second.sqlstate, "08006");
  ticket.give_up();  // a second time, after the wait ended: nothing happens
}

TEST(PoolWait, NotQueuedWhenAServerOrASlotIsFree) {
  asio::io_context ctx;
  DatabaseGroup group;
  Pool pool("db", "user", "", 1, &group);
  PoolLimits limits{4, 0, std::chrono::milliseconds(1000)};
  Pool::Acquired got;
  Pool::WaitTicket ticket;
  bool queued = false;
  ticket.on_queued = [&] { queued = true; };
  asio::co_spawn(
      ctx, [&]() -> awaitable<void> { got = co_await pool.acquire(0, std::chrono::seconds(30), limits, &ticket); },
      asio::detached);
  ctx.run_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(got.slot);
  EXPECT_FALSE(got.waited);
  EXPECT_FALSE(queued);
  ticket.give_up();  // nothing to give up
  EXPECT_EQ(pool.counts().waiting, 0);
}

// The relay's path without a coroutine (attach_now, attach): what is free now, never a place in
// the queue; a slot given back is free again.
TEST(PoolWait, TryAcquireTakesWhatIsFreeAndNeverQueues) {
  asio::io_context ctx;
  DatabaseGroup group;
  Pool pool("db", "user", "", 1, &group);
  PoolLimits limits{1, 0, std::chrono::milliseconds(1000)};
  auto first = pool.try_acquire(0, ctx.get_executor(), limits);
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->slot);
  EXPECT_FALSE(first->waited);
  EXPECT_FALSE(pool.try_acquire(0, ctx.get_executor(), limits)) << "the only slot is taken";
  EXPECT_FALSE(pool.try_take_idle(0, ctx.get_executor(), limits)) << "no idle server either";
  EXPECT_EQ(pool.counts().waiting, 0);
  first->slot.reset();
  auto again = pool.try_acquire(0, ctx.get_executor(), limits);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->slot);
}

}  // namespace
}  // namespace pgopt::pooler
