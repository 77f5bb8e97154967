// Session settings (GUCs) a client expects or a server has, and the SQL that turns one into the other.
#include "pooler/guc_state.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace pgopt::pooler {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_fixed_parameter(std::string_view n) {
  static constexpr std::array<std::string_view, 7> fixed = {
      "server_version", "server_encoding", "integer_datetimes", "is_superuser",
      "in_hot_standby", "session_authorization", "scram_iterations"};
  return std::find(fixed.begin(), fixed.end(), n) != fixed.end();
}

void GucState::set_reported(std::string_view name, std::string_view value) {
  entries_[lower(name)] = GucEntry{std::string(name), std::string(value), false};
}

void GucState::set_replayed(std::string_view name, std::string sql) {
  entries_[lower(name)] = GucEntry{std::string(name), std::move(sql), true};
}

void GucState::reset(std::string_view name) {
  auto it = entries_.find(lower(name));
  if (it != entries_.end() && it->second.replayed) entries_.erase(it);
}

void GucState::reset_all_replayed() {
  std::erase_if(entries_, [](const auto& kv) { return kv.second.replayed; });
}

const GucEntry* GucState::find(std::string_view name) const {
  // Most callers pass a lower-case name already: no copy for those.
  const bool is_lower = std::none_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  auto it = is_lower ? entries_.find(name) : entries_.find(lower(name));
  return it == entries_.end() ? nullptr : &it->second;
}

namespace {

// A dollar-quote tag that does not occur in the value, so any text is a safe literal.
std::string dollar_quote(std::string_view v) {
  std::string tag = "$q$";
  for (int i = 0; v.find(tag) != std::string_view::npos; ++i) tag = "$q" + std::to_string(i) + "$";
  return tag + std::string(v) + tag;
}

bool plain_name(std::string_view n) {
  return !n.empty() && std::all_of(n.begin(), n.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
  });
}

}  // namespace

std::string set_config_sql(std::string_view name, std::string_view value) {
  return "SELECT pg_catalog.set_config(" + dollar_quote(name) + ", " + dollar_quote(value) + ", false)";
}

std::string sync_sql(const GucState& want, const GucState& have) {
  std::string sql;
  std::string set_calls;
  for (const auto& [key, entry] : have.entries()) {
    if (!entry.replayed || want.find(key)) continue;
    // Only plain names reach here from the parser; anything else would be refused by RESET anyway.
    if (plain_name(key)) sql += "RESET " + key + ";";
  }
  for (const auto& [key, entry] : want.entries()) {
    if (is_fixed_parameter(key)) continue;
    const GucEntry* h = have.find(key);
    if (h && *h == entry) continue;
    if (entry.replayed) {
      sql += entry.value;
      sql += ";";
    } else {
      if (!set_calls.empty()) set_calls += ", ";
      set_calls += "pg_catalog.set_config(" + dollar_quote(entry.name) + ", " + dollar_quote(entry.value) +
                   ", false)";
    }
  }
  if (!set_calls.empty()) sql += "SELECT " + set_calls + ";";
  return sql;
}

}  // namespace pgopt::pooler
