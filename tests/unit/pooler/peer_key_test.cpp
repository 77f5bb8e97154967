// pooler/fleet/peer_key.hpp: the peer id travels in a cancel key's secret, and the routing rules
// (forward once, never loop, unknown peers looked up locally).
#include "pooler/fleet/peer_key.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>

namespace pgopt::pooler::fleet {
namespace {

TEST(PeerKey, StampedSecretNamesItsPeerAndKeepsTheLowBitsRandom) {
  for (int peer : {1, 2, 77, 8191, kMaxPeerId}) {
    for (uint32_t random : {0u, 1u, 0x3ffffu, 0xdeadbeefu, 0xffffffffu}) {
      const int32_t s = stamp_secret(random, peer);
      EXPECT_EQ(peer_of(s), peer) << peer << " " << random;
      EXPECT_EQ(uint32_t(s) & kRandomMask, random & kRandomMask);
    }
  }
}

TEST(PeerKey, TwoPeersNeverIssueTheSameSecret) {
  // Same random bits, different peers: the secrets differ, so a (pid, secret) pair that two
  // processes both issue (each numbers its own slots from 1) still names one client.
  std::set<int32_t> seen;
  for (int peer = 1; peer <= kMaxPeerId; ++peer) EXPECT_TRUE(seen.insert(stamp_secret(0x2a2a2, peer)).second);
}

TEST(PeerKey, WithoutAPeerIdAllThirtyTwoBitsAreRandom) {
  EXPECT_EQ(stamp_secret(0xdeadbeefu, 0), int32_t(0xdeadbeefu));
  EXPECT_EQ(stamp_secret(0x12345678u, -1), int32_t(0x12345678u));
}

TEST(PeerKey, RouteCancel) {
  const int32_t from3 = stamp_secret(0x1234, 3);
  // A process outside a fleet owns every key it could be sent.
  EXPECT_EQ(route_cancel(from3, 0, false, true), CancelRoute::Local);
  // Own key: local. Another known peer's key: forward.
  EXPECT_EQ(route_cancel(from3, 3, false, true), CancelRoute::Local);
  EXPECT_EQ(route_cancel(from3, 1, false, true), CancelRoute::Forward);
  // Already forwarded once: never again, even if this process thinks another peer owns it.
  EXPECT_EQ(route_cancel(from3, 1, true, true), CancelRoute::Local);
  // A peer [peers] does not list, or a key of a process outside the fleet (peer 0): local, where
  // it matches nothing (as a wrong key does on PostgreSQL).
  EXPECT_EQ(route_cancel(from3, 1, false, false), CancelRoute::Local);
  EXPECT_EQ(route_cancel(stamp_secret(0x1234, 0) & int32_t(kRandomMask), 1, false, true), CancelRoute::Local);
}

}  // namespace
}  // namespace pgopt::pooler::fleet
