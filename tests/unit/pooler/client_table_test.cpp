// pooler/runtime.hpp, ClientTable in a takeover: the old process's slots are kept for its clients,
// each claims its own (so its cancel key stays valid), and new clients meanwhile get other slots.
#include "pooler/runtime.hpp"

#include <gtest/gtest.h>

#include <set>

namespace pgopt::pooler {
namespace {

// The table stores the pointer only; these tests never look a session up through it.
ClientSession* fake(uintptr_t n) { return reinterpret_cast<ClientSession*>(n * 64); }

protocol::CancelKey key_for(int32_t slot, int32_t generation, int32_t secret) {
  return {generation << ClientTable::kSlotBits | (slot + 1), secret};
}

TEST(ClientTable, ReservedSlotsAreClaimedOnceAndNewClientsGetOthers) {
  ClientTable t;
  t.reserve(4);
  EXPECT_TRUE(t.claim(key_for(2, 5, 77), fake(1), 0));
  EXPECT_FALSE(t.claim(key_for(2, 5, 77), fake(2), 0));  // taken
  EXPECT_FALSE(t.claim(key_for(9, 0, 1), fake(3), 0));   // beyond what the old process had
  EXPECT_FALSE(t.claim({0, 1}, fake(3), 0));             // no pid: no slot
  // A client that logs in meanwhile gets a slot above the reserved ones.
  const auto fresh = t.add(fake(4), 0);
  EXPECT_GE(ClientTable::slot_of(fresh.pid), 4);
  // Once the handover ends, the unclaimed slots are free for new clients; the claimed one is not.
  t.release_reserved();
  std::set<int32_t> slots;
  for (int i = 0; i < 3; ++i) slots.insert(ClientTable::slot_of(t.add(fake(10 + i), 0).pid));
  EXPECT_EQ(slots, (std::set<int32_t>{0, 1, 3}));
  EXPECT_FALSE(t.claim(key_for(0, 0, 1), fake(20), 0));  // no longer reserved
  // The claimed key is removable like any other, and its slot is then reused with a new generation.
  t.remove(key_for(2, 5, 77));
  const auto reused = t.add(fake(30), 0);
  EXPECT_EQ(ClientTable::slot_of(reused.pid), 2);
  EXPECT_NE(reused.pid, key_for(2, 5, 77).pid);
}

}  // namespace
}  // namespace pgopt::pooler
