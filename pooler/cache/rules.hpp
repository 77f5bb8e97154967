// Which [[cache.rules]] entry a cacheable statement falls under, and the TTL it gets; the rule's
// index is what the Store's counters are kept by.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pooler/config/config.hpp"

namespace pgopt::pooler::cache {

struct RuleMatch {
  size_t index = 0;  // into Rules::names(); the hint slot for a hint without a matching rule
  std::chrono::milliseconds ttl{0};
};

struct Statement {
  std::string_view fingerprint;         // sql::fingerprint_hex() of the text
  std::span<const std::string> tables;  // sql::cacheability().tables
  std::string_view database;
  std::string_view user;
  std::optional<std::chrono::milliseconds> hint_ttl;  // a valid /* pgopt:cache ttl=... */
};

// Immutable once built from a config snapshot: every worker may call match() at once.
class Rules {
 public:
  explicit Rules(std::vector<CacheRule> rules);

  // The first rule, in file order, whose every given criterion matches; a statement with a hint
  // and no matching rule gets the hint slot (index rules().size()). A hint's ttl overrides the
  // rule's: the statement's author knows its data best, and only cacheable statements get here.
  // nullopt: not to be cached.
  std::optional<RuleMatch> match(const Statement& s) const;

  // Counter slots: one per rule, then "hint" (statements cached by their hint alone).
  size_t slot_count() const { return rules_.size() + 1; }
  std::string_view slot_name(size_t index) const;

 private:
  std::vector<CacheRule> rules_;
};

// A rule's table entry against a table as the statement names it: an unqualified entry matches the
// name in any schema, a qualified one only the same qualified name (case-sensitive, as sql/ gives
// names already folded).
bool table_matches(std::string_view entry, std::string_view table);

}  // namespace pgopt::pooler::cache
