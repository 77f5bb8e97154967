// Internal to pooler/config: the [peers] table of a fleet and its checks against [pooler].
#pragma once

#include <map>

#include "pooler/config/reader.hpp"

namespace pgopt::pooler::config_detail {

// Reads `[peers]` (`1 = "10.0.0.1:6432"`, ids 1..16383, each address once) into `out`; reports
// its own errors and returns false after any. `line`: the table's.
bool read_peers(Reader& r, const toml::node& node, std::map<int, PeerConfig>& out, int& line);

// pooler.peer_id and [peers] together: a [peers] table needs this process's own id in it.
// `peer_id_line` / `peers_line`: 0 when the key or table is absent.
void check_peers(Reader& r, const PoolerSettings& s, int peer_id_line, int peers_line,
                 const std::map<int, PeerConfig>& peers);

}  // namespace pgopt::pooler::config_detail
