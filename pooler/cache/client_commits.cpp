// ClientCommits: the seq of the client's last commit per table, kept as the maximum seen.
#include "pooler/cache/client_commits.hpp"

#include <algorithm>

#include "pooler/cache/table_name.hpp"

namespace pgopt::pooler::cache {

void ClientCommits::note(std::span<const std::string> tables, bool all, uint64_t seq) {
  if (all) all_ = std::max(all_, seq);
  for (const std::string& t : tables) {
    uint64_t& last = last_commit_[std::string(table_key(t))];
    last = std::max(last, seq);
  }
}

bool ClientCommits::allows(uint64_t filled_seq, std::span<const std::string> tables) const {
  if (all_ > filled_seq) return false;
  for (const std::string& t : tables) {
    auto it = last_commit_.find(std::string(table_key(t)));
    if (it != last_commit_.end() && it->second > filled_seq) return false;
  }
  return true;
}

void ClientCommits::clear() {
  last_commit_.clear();
  all_ = 0;
}

}  // namespace pgopt::pooler::cache
