// Socket-free: which process of a fleet issued a cancel key, and what to do with a cancel request.
//
// A CancelRequest carries only the 8 bytes a client was given at login (BackendKeyData: pid and
// secret) and arrives on a new connection, which the kernel (SO_REUSEPORT) or a load balancer may
// hand to any process of the fleet. The process that issued the key must therefore be readable
// from the key itself. Rules:
//   - A process with a peer_id (1..16383, PgBouncer's range) puts it in the top 14 bits of every
//     secret it issues; the low 18 bits stay random. The pid stays the session table's slot and
//     generation (runtime.hpp), unique within the process over a long time.
//   - A process without a peer_id issues 32 random bits and never forwards: a single process owns
//     every key it could be sent.
//   - A cancel for another peer is forwarded once, marked as forwarded (kForwardedCancelCode, a
//     startup code only pgopt peers send); a forwarded cancel is never forwarded again, so a
//     mistaken [peers] table (two processes that each think the other owns a key) costs one hop,
//     never a loop.
//   - A cancel whose peer is this process, or unknown to [peers], is looked up locally (where an
//     unknown key simply matches nothing, as PostgreSQL does: no reply either way).
// Why the secret and not the pid: the pid is what drivers and logs show, and its uniqueness over
// time is the slot generation's job. The cost is 18 random bits instead of 32 in the secret; a
// forger must also guess the pid (slot and generation), which no other client is shown.
#pragma once

#include <cstdint>

namespace pgopt::pooler::fleet {

inline constexpr int kMaxPeerId = 16383;  // 14 bits
inline constexpr int kPeerShift = 18;     // the peer id sits above 18 random bits
inline constexpr uint32_t kRandomMask = (uint32_t(1) << kPeerShift) - 1;

// The secret a process with `peer_id` (0: none) hands out, from 32 random bits.
constexpr int32_t stamp_secret(uint32_t random, int peer_id) {
  if (peer_id <= 0) return int32_t(random);
  return int32_t(uint32_t(peer_id) << kPeerShift | (random & kRandomMask));
}

// The peer id a stamped secret names (meaningless for an unstamped one: only a process that has a
// peer_id asks, and every process of its fleet stamps).
constexpr int peer_of(int32_t secret) { return int(uint32_t(secret) >> kPeerShift); }

enum class CancelRoute {
  Local,    // this process owns the key (or nobody does): look it up here
  Forward,  // another peer issued it: send it there, marked as forwarded
};

// `own_peer_id` 0: not in a fleet. `known_peer`: whether [peers] has an address for the key's peer.
constexpr CancelRoute route_cancel(int32_t secret, int own_peer_id, bool forwarded, bool known_peer) {
  if (own_peer_id <= 0 || forwarded) return CancelRoute::Local;
  const int owner = peer_of(secret);
  if (owner == own_peer_id || owner == 0 || !known_peer) return CancelRoute::Local;
  return CancelRoute::Forward;
}

}  // namespace pgopt::pooler::fleet
