// Rules: a linear scan in file order (configs hold a handful of rules; the relay asks once per
// cacheable statement, after its own lookups).
#include "pooler/cache/rules.hpp"

#include <algorithm>

#include "pooler/cache/table_name.hpp"

namespace pgopt::pooler::cache {
namespace {

bool rule_matches(const CacheRule& r, const Statement& s) {
  if (!r.database.empty() && r.database != s.database) return false;
  if (!r.user.empty() && r.user != s.user) return false;
  if (!r.fingerprints.empty() &&
      std::find(r.fingerprints.begin(), r.fingerprints.end(), s.fingerprint) == r.fingerprints.end())
    return false;
  if (!r.tables.empty()) {
    // Every table read must be opted in; a statement that reads none (SELECT 1) is not "of" them.
    if (s.tables.empty()) return false;
    for (const std::string& t : s.tables)
      if (std::none_of(r.tables.begin(), r.tables.end(), [&](const std::string& e) { return table_matches(e, t); }))
        return false;
  }
  return true;
}

}  // namespace

bool table_matches(std::string_view entry, std::string_view table) {
  if (entry.find('.') != std::string_view::npos) return entry == table;
  return entry == table_key(table);
}

Rules::Rules(std::vector<CacheRule> rules) : rules_(std::move(rules)) {}

std::optional<RuleMatch> Rules::match(const Statement& s) const {
  for (size_t i = 0; i < rules_.size(); ++i) {
    if (!rule_matches(rules_[i], s)) continue;
    return RuleMatch{i, s.hint_ttl.value_or(rules_[i].ttl)};
  }
  if (s.hint_ttl) return RuleMatch{rules_.size(), *s.hint_ttl};
  return std::nullopt;
}

std::string_view Rules::slot_name(size_t index) const {
  return index < rules_.size() ? std::string_view(rules_[index].name) : std::string_view("hint");
}

}  // namespace pgopt::pooler::cache
