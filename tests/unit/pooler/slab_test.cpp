// The session slab: fixed-size slots in chunks of their own, reused after release.
#include "pooler/slab.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <set>
#include <vector>

namespace pgopt::pooler {
namespace {

struct Odd {  // a size that is not a multiple of 16
  explicit Odd(int v) : value(v) {}
  int value;
  char pad[37]{};
};

TEST(Slab, HandsOutDistinctAlignedSlotsAndReusesReleasedOnes) {
  Slab slab(sizeof(Odd), alignof(Odd));
  std::vector<void*> taken;
  std::set<void*> seen;
  for (int i = 0; i < 5000; ++i) {  // several chunks
    void* p = slab.take();
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % alignof(Odd), 0u);
    EXPECT_TRUE(seen.insert(p).second) << "slot handed out twice";
    taken.push_back(p);
  }
  // Slots never overlap: each one is at least sizeof(Odd) from its neighbours.
  std::vector<uintptr_t> sorted;
  for (void* p : seen) sorted.push_back(reinterpret_cast<uintptr_t>(p));
  for (size_t i = 1; i < sorted.size(); ++i) EXPECT_GE(sorted[i] - sorted[i - 1], sizeof(Odd));
  void* back = taken[1234];
  slab.give(back);
  EXPECT_EQ(slab.take(), back);  // the slot freed last is the next one out
  for (void* p : taken) slab.give(p);
  std::set<void*> again;
  for (int i = 0; i < 5000; ++i) again.insert(slab.take());
  EXPECT_EQ(again, seen);  // no new memory for as many objects as before
}

TEST(Slab, SlotsSmallerThanAPointerStillHoldTheFreeList) {
  Slab slab(1, 1);
  std::set<void*> seen;
  for (int i = 0; i < 100; ++i) {
    void* p = slab.take();
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % alignof(void*), 0u);
    EXPECT_TRUE(seen.insert(p).second);
  }
  for (void* p : seen) slab.give(p);
  std::set<void*> again;
  for (int i = 0; i < 100; ++i) again.insert(slab.take());
  EXPECT_EQ(again, seen);
}

TEST(SlabAllocator, AllocateSharedObjectsLiveAndDieNormally) {
  auto a = std::allocate_shared<Odd>(SlabAllocator<Odd>(), 7);
  auto b = std::allocate_shared<Odd>(SlabAllocator<Odd>(), 8);
  std::weak_ptr<Odd> wa = a;
  EXPECT_EQ(a->value, 7);
  EXPECT_EQ(b->value, 8);
  EXPECT_NE(a.get(), b.get());
  a.reset();
  EXPECT_TRUE(wa.expired());
  auto c = std::allocate_shared<Odd>(SlabAllocator<Odd>(), 9);
  EXPECT_EQ(c->value, 9);
  EXPECT_EQ(b->value, 8);  // untouched by the reuse of a's slot
  // Arrays (n > 1) are not the slab's: they go to the default allocator.
  SlabAllocator<Odd> alloc;
  Odd* many = alloc.allocate(3);
  alloc.deallocate(many, 3);
}

}  // namespace
}  // namespace pgopt::pooler
