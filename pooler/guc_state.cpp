// Session settings (GUCs) a client expects or a server has, and the SQL that turns one into the other.
#include "pooler/guc_state.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <functional>

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

GucState::Map& GucState::mut() {
  if (!map_)
    map_ = std::make_shared<Map>();
  else if (frozen_ || map_.use_count() > 1)
    map_ = std::make_shared<Map>(*map_);
  frozen_ = false;
  return *map_;
}

const GucState::Map& GucState::entries() const {
  static const Map none;
  return map_ ? *map_ : none;
}

// Each change is made only when it changes something, so an unchanged state keeps its handle.
void GucState::set_reported(std::string_view name, std::string_view value) {
  if (const GucEntry* e = find(name); e && !e->replayed && e->name == name && e->value == value) return;
  mut()[lower(name)] = GucEntry{std::string(name), std::string(value), false};
}

void GucState::set_replayed(std::string_view name, std::string sql) {
  if (const GucEntry* e = find(name); e && e->replayed && e->name == name && e->value == sql) return;
  mut()[lower(name)] = GucEntry{std::string(name), std::move(sql), true};
}

void GucState::reset(std::string_view name) {
  if (const GucEntry* e = find(name); e && e->replayed) mut().erase(lower(name));
}

void GucState::reset_all_replayed() {
  const auto& m = entries();
  if (std::none_of(m.begin(), m.end(), [](const auto& kv) { return kv.second.replayed; })) return;
  std::erase_if(mut(), [](const auto& kv) { return kv.second.replayed; });
}

const GucEntry* GucState::find(std::string_view name) const {
  if (!map_) return nullptr;
  // Most callers pass a lower-case name already: no copy for those.
  const bool is_lower = std::none_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  auto it = is_lower ? map_->find(name) : map_->find(lower(name));
  return it == map_->end() ? nullptr : &it->second;
}

void GucState::intern(GucInterner& interner) { interner.intern(*this); }

namespace {

uint64_t content_hash(const GucState::Map& m) {
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](uint64_t v) { h = (h ^ v) * 1099511628211ULL + 0x9e3779b97f4a7c15ULL; };
  for (const auto& [k, e] : m) {
    mix(std::hash<std::string_view>{}(k));
    mix(std::hash<std::string_view>{}(e.name));
    mix(std::hash<std::string_view>{}(e.value));
    mix(e.replayed);
  }
  return h;
}

}  // namespace

void GucInterner::intern(GucState& s) {
  if (!s.map_ || s.frozen_) return;  // empty, or interned already and unchanged since
  const uint64_t h = content_hash(*s.map_);
  std::lock_guard lk(mu_);
  auto [lo, hi] = table_.equal_range(h);
  for (auto it = lo; it != hi; ++it) {
    auto m = it->second.lock();
    // Equal hashes are only a hint: the contents decide.
    if (m && (m == s.map_ || *m == *s.map_)) {
      s.map_ = std::move(m);
      s.frozen_ = true;
      return;
    }
  }
  table_.emplace(h, s.map_);
  s.frozen_ = true;
}

size_t GucInterner::size() const {
  std::lock_guard lk(mu_);
  return table_.size();
}

void GucInterner::sweep() {
  std::lock_guard lk(mu_);
  std::erase_if(table_, [](const auto& kv) { return kv.second.expired(); });
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
