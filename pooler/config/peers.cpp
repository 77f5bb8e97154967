// [peers]: the processes of a fleet and the address unique to each (pooler/fleet/).
#include "pooler/config/peers.hpp"

#include <charconv>

namespace pgopt::pooler::config_detail {
namespace {

constexpr int kMaxPeerId = 16383;  // 14 bits of a cancel key (pooler/fleet/peer_key.hpp)

std::optional<int> peer_id_of(std::string_view key) {
  int id = 0;
  auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
  if (ec != std::errc() || end != key.data() + key.size() || id < 1 || id > kMaxPeerId) return std::nullopt;
  return id;
}

// "host:port" or "[v6]:port".
bool split_address(std::string_view text, std::string& host, int& port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view h = text.substr(0, colon), p = text.substr(colon + 1);
  if (h.front() == '[') {
    if (h.size() < 3 || h.back() != ']') return false;
    h = h.substr(1, h.size() - 2);
  } else if (h.find(':') != std::string_view::npos) {
    return false;  // an IPv6 address needs brackets, or its last group reads as the port
  }
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc() || end != p.data() + p.size() || port < 1 || port > 65535) return false;
  host = std::string(h);
  return true;
}

}  // namespace

bool read_peers(Reader& r, const toml::node& node, std::map<int, PeerConfig>& out, int& line_out) {
  line_out = line_of(node.source());
  const toml::table* t = node.as_table();
  if (t == nullptr) {
    r.wrong_type(node, "peers", "a table ([peers]) of peer ids and addresses such as 1 = \"10.0.0.1:6432\"");
    return false;
  }
  bool ok = true;
  for (auto&& [key, value] : *t) {
    const int line = line_of(key.source());
    const std::string qualified = fmt::format("peers.{}", toml_key(key.str()));
    auto id = peer_id_of(key.str());
    if (!id) {
      r.error(line, fmt::format("{}: a peer id is an integer between 1 and {}", qualified, kMaxPeerId));
      ok = false;
      continue;
    }
    std::string text;
    if (!r.read_string(value, qualified, false, text)) {
      ok = false;
      continue;
    }
    PeerConfig peer{*id, {}, 0, line_of(value.source())};
    if (!split_address(text, peer.host, peer.port)) {
      r.error(peer.line, fmt::format("{}: {} is not an address such as \"10.0.0.1:6432\" or \"[::1]:6432\"",
                                     qualified, toml_quote(text)));
      ok = false;
      continue;
    }
    auto same = std::find_if(out.begin(), out.end(), [&](const auto& kv) {
      return kv.second.host == peer.host && kv.second.port == peer.port;
    });
    if (same != out.end()) {
      r.error(peer.line, fmt::format("{}: {} is also peer {}'s address (line {}); each process needs its own",
                                     qualified, toml_quote(text), same->first, same->second.line));
      ok = false;
      continue;
    }
    out.emplace(*id, std::move(peer));
  }
  return ok;
}

void check_peers(Reader& r, const PoolerSettings& s, int peer_id_line, int peers_line,
                 const std::map<int, PeerConfig>& peers) {
  if (peers.empty()) return;
  if (s.peer_id == 0) {
    r.error(peers_line, "[peers] needs pooler.peer_id: which of these processes this one is");
    return;
  }
  auto own = peers.find(s.peer_id);
  if (own == peers.end()) {
    r.error(peer_id_line, fmt::format("pooler.peer_id = {} has no address in [peers]: the other processes "
                                      "forward this one's cancel requests there",
                                      s.peer_id));
    return;
  }
  // A shared port reaches any of the processes: a forwarded cancel must reach this one.
  if (s.so_reuseport && own->second.host == s.listen_addr && own->second.port == s.listen_port) {
    r.error(own->second.line, fmt::format("peers.{}: with so_reuseport the listen address is shared by the "
                                          "fleet; this process's own entry needs an address of its own",
                                          s.peer_id));
  }
}

}  // namespace pgopt::pooler::config_detail
