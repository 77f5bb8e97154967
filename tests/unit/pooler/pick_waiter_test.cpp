// Which waiting client gets a released server: the local one unless another worker's waits twice as long.
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "pooler/pool.hpp"

namespace pgopt::pooler {
namespace {

using namespace std::chrono_literals;

struct W {
  int worker;
  Clock::time_point since;
};

struct Waiting {
  Clock::time_point now = Clock::now();
  std::vector<std::shared_ptr<W>> list;  // oldest first, as Pool keeps them
  Waiting& add(int worker, std::chrono::milliseconds waited) {
    list.push_back(std::make_shared<W>(W{worker, now - waited}));
    return *this;
  }
  long pick(int worker) const { return pick_waiter(list.begin(), list.end(), worker, now) - list.begin(); }
};

TEST(PickWaiter, NobodyWaiting) {
  Waiting w;
  EXPECT_EQ(w.pick(0), 0);
}

TEST(PickWaiter, TheOldestWhenItIsOnTheServersWorker) {
  Waiting w;
  w.add(0, 30ms).add(1, 20ms).add(0, 10ms);
  EXPECT_EQ(w.pick(0), 0);
  EXPECT_EQ(w.pick(1), 1);  // 30 ms is less than twice 20 ms plus 2 ms: stays on worker 1
}

TEST(PickWaiter, TheOldestWhenNobodyWaitsOnTheServersWorker) {
  Waiting w;
  w.add(1, 1ms).add(1, 0ms);
  EXPECT_EQ(w.pick(0), 0);
}

TEST(PickWaiter, TheLocalOneWhileWaitsAreComparable) {
  Waiting w;
  w.add(1, 12ms).add(1, 11ms).add(0, 9ms);
  EXPECT_EQ(w.pick(0), 2);
}

TEST(PickWaiter, TheOldestOnceItWaitedTwiceAsLongAsTheLocalOne) {
  Waiting w;
  w.add(1, 25ms).add(0, 10ms);
  EXPECT_EQ(w.pick(0), 0);  // 25 ms > 2 x 10 ms + 2 ms
  Waiting v;
  v.add(1, 21ms).add(0, 10ms);
  EXPECT_EQ(v.pick(0), 1);  // 21 ms < 22 ms
}

TEST(PickWaiter, AFreshLocalWaiterDoesNotOvertakeOneThatWaitedAFewMilliseconds) {
  Waiting w;
  w.add(1, 3ms).add(0, 0ms);
  EXPECT_EQ(w.pick(0), 0);  // 3 ms > 2 x 0 + 2 ms
}

}  // namespace
}  // namespace pgopt::pooler
