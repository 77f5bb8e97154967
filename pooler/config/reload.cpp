// What a reload may change on a running pooler, and what changed between two configs.
#include <algorithm>
#include <array>
#include <set>
#include <string>

#include "pooler/config/config.hpp"

namespace pgopt::pooler {
namespace {

// They shape the process itself: bound sockets, threads, and buffers sized at startup.
// peer_id is in every cancel key already issued: a new one would orphan them.
constexpr std::array<std::string_view, 9> kRestartOnly{"listen_addr",     "listen_port",  "so_reuseport",
                                                       "peer_id",         "workers",      "max_packet_size",
                                                       "metrics_addr",    "metrics_port", "peers.own"};

bool contains(std::span<const std::string_view> keys, std::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

}  // namespace

bool reloadable(std::string_view key) {
  constexpr std::string_view kPooler = "pooler.", kDatabases = "databases.", kPeers = "peers.";
  // The other peers' addresses only say where to forward cancels: they may change live. This
  // process's own entry is a bound socket ("peers.own", as changed_keys() reports it).
  if (key.starts_with(kPeers)) return key != "peers.own";
  if (key.starts_with(kPooler))
    key.remove_prefix(kPooler.size());
  else if (key.starts_with(kDatabases)) {
    // Everything about a database may change live: a database added or removed, or any of its
    // keys (host, port and dbname apply to server connections opened after the reload).
    return key.size() > kDatabases.size();
  }
  if (contains(kRestartOnly, key)) return false;
  return contains(pooler_keys(), key) || contains(database_keys(), key);
}

std::vector<std::string> changed_keys(const Config& before, const Config& after) {
  std::vector<std::string> out;
  for (std::string_view key : pooler_keys()) {
    if (pooler_value(before.pooler, key) != pooler_value(after.pooler, key)) {
      out.push_back("pooler." + std::string(key));
    }
  }
  // Both maps are sorted by name, so one merge pass finds added, removed and changed databases.
  auto b = before.databases.begin(), a = after.databases.begin();
  while (b != before.databases.end() || a != after.databases.end()) {
    if (a == after.databases.end() || (b != before.databases.end() && b->first < a->first)) {
      out.push_back("databases." + b->first);  // removed
      ++b;
    } else if (b == before.databases.end() || a->first < b->first) {
      out.push_back("databases." + a->first);  // added
      ++a;
    } else {
      for (std::string_view key : database_keys()) {
        if (database_value(before, b->second, key) != database_value(after, a->second, key)) {
          out.push_back("databases." + b->first + "." + std::string(key));
        }
      }
      ++a;
      ++b;
    }
  }
  // [peers]: ids added, removed or moved; this process's own entry under its own name.
  std::set<int> ids;
  for (const auto& [id, p] : before.peers) ids.insert(id);
  for (const auto& [id, p] : after.peers) ids.insert(id);
  for (int id : ids) {
    const PeerConfig *b = before.find_peer(id), *a = after.find_peer(id);
    if (b && a && *b == *a) continue;
    const bool own = id == before.pooler.peer_id || id == after.pooler.peer_id;
    out.push_back(own ? "peers.own" : "peers." + std::to_string(id));
  }
  // [cache] as a whole: nothing uses it live yet (the relay is not wired, docs/result-cache.md), so
  // "cache" is not reloadable() and a change asks for a restart.
  if (!(before.cache == after.cache)) out.push_back("cache");
  return out;
}

}  // namespace pgopt::pooler
