// Sends a cancel request another process of the fleet issued to that process, bounded in time.
#pragma once

#include <chrono>
#include <string>

#include "pooler/config/config.hpp"
#include "pooler/net.hpp"
#include "pooler/protocol/codec.hpp"

namespace pgopt::pooler::fleet {

// How long a forward may take (resolve, connect, write): the client that sent the cancel holds its
// connection open meanwhile, as PostgreSQL's postmaster does while it signals the backend.
inline constexpr std::chrono::milliseconds kForwardTimeout{2000};

// Connects to the peer's address, writes the cancel marked as forwarded, and closes. Returns an
// empty string on success, else why not (for the log; the client is told nothing either way, as
// with any cancel).
awaitable<std::string> forward_cancel(const PeerConfig& peer, protocol::CancelKey key,
                                      std::chrono::milliseconds timeout = kForwardTimeout);

}  // namespace pgopt::pooler::fleet
