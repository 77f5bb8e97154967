// Patroni's answer to GET /cluster, read without a JSON library: only the members' name, role,
// state, host and port are needed, and the parser skips everything else (nested values too).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgopt::pooler::topology {

struct PatroniMember {
  std::string name, role, state, host;
  int port = 0;
};

// The "members" array of a /cluster body; nullopt when the body is not such a JSON object.
std::optional<std::vector<PatroniMember>> parse_patroni_cluster(std::string_view json);

// Patroni's leader as an index into `hosts` ("host:port" each), matched by host and port: the member
// whose role is leader (or master/primary in older Patroni) and whose state is running. nullopt:
// Patroni has no running leader now, or it is not one of `hosts`.
std::optional<size_t> patroni_leader(const std::vector<PatroniMember>& members,
                                     const std::vector<std::pair<std::string, int>>& hosts);

}  // namespace pgopt::pooler::topology
