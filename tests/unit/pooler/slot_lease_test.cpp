// A connect slot a pool grants is freed by its lease unless a connection took it over: dropped,
// moved from, reset early or handed over, the pool's count stays right and a waiter gets the slot.
#include <gtest/gtest.h>

#include "pooler/pool.hpp"

namespace pgopt::pooler {
namespace {

PoolLimits one_slot() { return PoolLimits{1, 0, std::chrono::milliseconds(1000)}; }

TEST(SlotLease, ADroppedLeaseFreesItsSlotForTheNextClient) {
  DatabaseGroup group;
  Pool pool("db", "user", "", 1, &group);
  {
    auto slots = pool.reserve_to_min(3, one_slot());
    ASSERT_EQ(slots.size(), 1u) << "pool_size 1 caps min_pool_size";
    EXPECT_EQ(pool.counts().total, 1);
    EXPECT_EQ(group.open(), 1);
    EXPECT_TRUE(pool.reserve_to_min(3, one_slot()).empty()) << "the slot is taken";
  }
  EXPECT_EQ(pool.counts().total, 0) << "the failed connect's slot came back";
  EXPECT_EQ(group.open(), 0);
  EXPECT_EQ(pool.reserve_to_min(1, one_slot()).size(), 1u);
}

TEST(SlotLease, MovingALeaseFreesTheSlotOnce) {
  DatabaseGroup group;
  Pool pool("db", "user", "", 1, &group);
  PoolLimits two{2, 0, std::chrono::milliseconds(1000)};
  auto slots = pool.reserve_to_min(2, two);
  ASSERT_EQ(slots.size(), 2u);
  SlotLease a = std::move(slots[0]);
  EXPECT_FALSE(slots[0]);
  EXPECT_EQ(a.pool(), &pool);
  a = std::move(slots[1]);  // the slot `a` held is freed, the other one moves in
  EXPECT_EQ(pool.counts().total, 1);
  slots.clear();  // two moved-from leases: nothing more
  EXPECT_EQ(pool.counts().total, 1);
  a.reset();
  a.reset();
  EXPECT_EQ(pool.counts().total, 0);
  EXPECT_EQ(group.open(), 0);
}

TEST(SlotLease, AHandedOverSlotStaysWithItsConnectionUntilDiscard) {
  asio::io_context ctx;
  DatabaseGroup group;
  Pool pool("db", "user", "", 1, &group);
  auto slots = pool.reserve_to_min(1, one_slot());
  ASSERT_EQ(slots.size(), 1u);
  auto s = std::make_shared<ServerConn>(tcp::socket(ctx), ServerTarget{}, 1);
  slots[0].hand_over(*s);
  EXPECT_EQ(s->pool, &pool);
  EXPECT_FALSE(slots[0]);
  slots.clear();
  EXPECT_EQ(pool.counts().total, 1) << "the open connection holds the slot";
  pool.discard(s);
  EXPECT_EQ(pool.counts().total, 0);
}

TEST(SlotLease, AFreedSlotWakesAClientQueuedForIt) {
  asio::io_context ctx;
  DatabaseGroup group;
  Pool pool("db", "user", "", 1, &group);
  Pool::Acquired first, second;
  bool done = false;
  asio::co_spawn(ctx, [&]() -> awaitable<void> { first = co_await pool.acquire(0, std::chrono::seconds(30), one_slot()); },
                 asio::detached);
  asio::co_spawn(
      ctx,
      [&]() -> awaitable<void> {
        second = co_await pool.acquire(0, std::chrono::seconds(30), one_slot());
        done = true;
      },
      asio::detached);
  ctx.run_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(first.slot);
  ASSERT_FALSE(done) << "the second client waits for the only slot";
  first = Pool::Acquired{};  // the first client's connect failed: its lease goes
  for (int i = 0; i < 100 && !done; ++i) {
    ctx.restart();
    ctx.run_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(done) << "the freed slot went to the waiting client";
  EXPECT_TRUE(second.slot);
  EXPECT_EQ(pool.counts().total, 1);
}

}  // namespace
}  // namespace pgopt::pooler
