// [cache] and [[cache.rules]]: key by key, each error at its own line; the rules' cross-checks
// after the whole table.
#include "pooler/config/cache_keys.hpp"

#include <set>

#include "pooler/config/split_keys.hpp"

namespace pgopt::pooler::config_detail {
namespace {

constexpr std::array<std::string_view, 8> kCacheKeys{"enabled",        "invalidation",     "publication",
                                                     "slot_name",      "max_memory",       "max_entry_size",
                                                     "stable_functions", "rules"};
constexpr std::array<EnumName<CacheInvalidation>, 2> kInvalidations{
    {{"writes", CacheInvalidation::Writes}, {"logical", CacheInvalidation::Logical}}};
constexpr std::array<std::string_view, 6> kRuleKeys{"name", "fingerprints", "tables", "database", "user", "ttl"};
constexpr uint64_t kMinMemory = 1024 * 1024, kMaxMemory = 1ull << 40;  // 1MB .. 1TB
constexpr uint64_t kMinEntry = 1024, kMaxEntry = 1ull << 30;           // 1kB .. 1GB
constexpr Millis kMaxTtl{7LL * 24 * 3600 * 1000};                      // a week, as for hints

std::string unknown_key_message(std::string_view key, std::string_view table, std::span<const std::string_view> known) {
  std::string msg = fmt::format("unknown key {} in {}", toml_quote(key), table);
  if (auto near = closest_match(key, known)) msg += fmt::format("; did you mean \"{}\"?", *near);
  return msg;
}

// A size in bytes up to 1TB (Reader::read_size stops at 4GB).
bool read_size64(Reader& r, const toml::node& n, const std::string& key, uint64_t lo, uint64_t hi, uint64_t& out) {
  UnitResult<uint64_t> v;
  if (const auto* i = n.as_integer()) {
    if (i->get() < 0) v.error = fmt::format("{} is negative; a size must be >= 0", i->get());
    else v.value = static_cast<uint64_t>(i->get());
  } else if (const auto* s = n.as_string()) {
    v = parse_size(s->get());
  } else {
    r.wrong_type(n, key, "a size (bytes as an integer, or a string such as \"64MB\")");
    return false;
  }
  if (!v.value) {
    r.error(line_of(n.source()), fmt::format("{}: {}", key, v.error));
    return false;
  }
  if (*v.value < lo || *v.value > hi) {
    r.error(line_of(n.source()), fmt::format("{}: {} is out of range (must be between {} and {})", key,
                                             format_size(*v.value), format_size(lo), format_size(hi)));
    return false;
  }
  out = *v.value;
  return true;
}

// PostgreSQL's rule for replication slot names: lower-case letters, digits and underscores, at most
// NAMEDATALEN - 1 bytes.
bool slot_name_ok(std::string_view s) {
  return !s.empty() && s.size() <= 63 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

// A publication name: any identifier PostgreSQL can hold (it is sent double-quoted).
bool publication_ok(std::string_view s) {
  return !s.empty() && s.size() <= 63 && s.find('\0') == std::string_view::npos;
}

bool read_checked_name(Reader& r, const toml::node& n, const std::string& key, bool (*valid)(std::string_view),
                       std::string_view what, std::string& out) {
  std::string v;
  if (!r.read_string(n, key, false, v)) return false;
  if (!valid(v)) {
    r.error(line_of(n.source()), fmt::format("{}: {} is not {}", key, toml_quote(v), what));
    return false;
  }
  out = std::move(v);
  return true;
}

bool hex16(std::string_view s) {
  return s.size() == 16 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// "name" or "schema.name": non-empty parts, no blanks or quotes (names as PostgreSQL folds them).
bool table_name(std::string_view s) {
  auto part = [](std::string_view p) {
    return !p.empty() && std::none_of(p.begin(), p.end(), [](char c) { return c == ' ' || c == '"' || c == '\t'; });
  };
  size_t dot = s.find('.');
  return dot == std::string_view::npos ? part(s) : part(s.substr(0, dot)) && part(s.substr(dot + 1));
}

bool read_string_array(Reader& r, const toml::node& n, const std::string& key, std::string_view what,
                       bool (*valid)(std::string_view), std::vector<std::string>& out) {
  const toml::array* a = n.as_array();
  if (a == nullptr) {
    r.wrong_type(n, key, fmt::format("an array of strings, each {}", what));
    return false;
  }
  bool ok = true;
  std::vector<std::string> values;
  for (size_t i = 0; i < a->size(); ++i) {
    const toml::node& e = (*a)[i];
    const std::string item = fmt::format("{}[{}]", key, i);
    const auto* s = e.as_string();
    if (s == nullptr) {
      r.wrong_type(e, item, "a string");
      ok = false;
    } else if (!valid(s->get())) {
      r.error(line_of(e.source()), fmt::format("{}: {} is not {}", item, toml_quote(s->get()), what));
      ok = false;
    } else {
      values.push_back(s->get());
    }
  }
  if (ok) out = std::move(values);
  return ok;
}

bool read_rule_key(Reader& r, std::string_view name, const toml::node& v, const std::string& q, CacheRule& rule) {
  if (name == "name") return r.read_string(v, q, false, rule.name);
  if (name == "fingerprints")
    return read_string_array(r, v, q, "a fingerprint (16 lower-case hex digits, as SHOW QUERIES prints them)", hex16,
                             rule.fingerprints);
  if (name == "tables")
    return read_string_array(r, v, q, "a table name (\"name\" or \"schema.name\")", table_name, rule.tables);
  if (name == "database") return r.read_string(v, q, false, rule.database);
  if (name == "user") return r.read_string(v, q, false, rule.user);
  if (!r.read_duration(v, q, rule.ttl)) return false;
  if (rule.ttl <= Millis{0} || rule.ttl > kMaxTtl) {
    r.error(line_of(v.source()),
            fmt::format("{}: {} is out of range (must be between 1ms and {})", q, format_duration(rule.ttl),
                        format_duration(kMaxTtl)));
    return false;
  }
  return true;
}

bool read_rule(Reader& r, const toml::node& node, size_t index, CacheRule& rule) {
  const std::string prefix = fmt::format("cache.rules[{}]", index);
  const toml::table* t = node.as_table();
  if (t == nullptr) {
    r.wrong_type(node, prefix, "a table ([[cache.rules]])");
    return false;
  }
  rule.line = line_of(t->source());
  bool ok = true, has_ttl = false;
  for (auto&& [key, value] : *t) {
    const std::string_view name = key.str();
    if (std::find(kRuleKeys.begin(), kRuleKeys.end(), name) == kRuleKeys.end()) {
      r.error(line_of(key.source()), unknown_key_message(name, "[[cache.rules]]", kRuleKeys));
      ok = false;
      continue;
    }
    has_ttl = has_ttl || name == "ttl";
    ok = read_rule_key(r, name, value, fmt::format("{}.{}", prefix, name), rule) && ok;
  }
  if (!ok) return false;
  if (!has_ttl) {
    r.error(rule.line, fmt::format("{}: ttl is required (how long an entry may be served, e.g. ttl = \"5s\")", prefix));
    return false;
  }
  if (rule.fingerprints.empty() && rule.tables.empty() && rule.database.empty() && rule.user.empty()) {
    r.error(rule.line, fmt::format("{}: a rule needs at least one of fingerprints, tables, database, user", prefix));
    return false;
  }
  if (rule.name.empty()) rule.name = fmt::format("rule{}", index + 1);
  return true;
}

bool read_rules(Reader& r, const toml::node& node, std::vector<CacheRule>& out) {
  const toml::array* a = node.as_array();
  if (a == nullptr || !a->is_array_of_tables()) {
    r.wrong_type(node, "cache.rules", "an array of tables ([[cache.rules]])");
    return false;
  }
  bool ok = true;
  std::set<std::string> names;
  for (size_t i = 0; i < a->size(); ++i) {
    CacheRule rule;
    if (!read_rule(r, (*a)[i], i, rule)) {
      ok = false;
      continue;
    }
    if (!names.insert(rule.name).second) {
      r.error(rule.line, fmt::format("cache.rules[{}].name: {} is already the name of another rule", i,
                                     toml_quote(rule.name)));
      ok = false;
      continue;
    }
    out.push_back(std::move(rule));
  }
  return ok;
}

}  // namespace

std::span<const std::string_view> cache_keys() { return kCacheKeys; }
std::span<const std::string_view> cache_rule_keys() { return kRuleKeys; }

bool read_cache(Reader& r, const toml::node& node, CacheConfig& out) {
  const toml::table* t = node.as_table();
  if (t == nullptr) {
    r.wrong_type(node, "cache", "a table ([cache])");
    return false;
  }
  out.line = line_of(t->source());
  bool ok = true;
  int memory_line = 0, entry_line = 0;
  for (auto&& [key, value] : *t) {
    const std::string_view name = key.str();
    const std::string q = fmt::format("cache.{}", name);
    if (name == "enabled") {
      ok = read_bool(r, value, q, out.enabled) && ok;
    } else if (name == "invalidation") {
      ok = r.read_enum(value, q, kInvalidations, out.invalidation) && ok;
    } else if (name == "publication") {
      ok = read_checked_name(r, value, q, publication_ok, "a publication name (1 to 63 bytes)", out.publication) && ok;
    } else if (name == "slot_name") {
      ok = read_checked_name(r, value, q, slot_name_ok,
                             "a replication slot name (1 to 63 lower-case letters, digits or underscores)",
                             out.slot_name) &&
           ok;
    } else if (name == "max_memory") {
      memory_line = line_of(value.source());
      ok = read_size64(r, value, q, kMinMemory, kMaxMemory, out.max_memory) && ok;
    } else if (name == "max_entry_size") {
      entry_line = line_of(value.source());
      ok = read_size64(r, value, q, kMinEntry, kMaxEntry, out.max_entry_size) && ok;
    } else if (name == "stable_functions") {
      ok = read_function_list(r, value, q, out.stable_functions) && ok;
    } else if (name == "rules") {
      ok = read_rules(r, value, out.rules) && ok;
    } else {
      r.error(line_of(key.source()), unknown_key_message(name, "[cache]", kCacheKeys));
      ok = false;
    }
  }
  if (ok && out.max_entry_size > out.max_memory) {
    r.error(entry_line ? entry_line : memory_line ? memory_line : out.line,
            fmt::format("cache.max_entry_size: {} is more than cache.max_memory ({})", format_size(out.max_entry_size),
                        format_size(out.max_memory)));
    ok = false;
  }
  return ok;
}

bool check_cache_databases(Reader& r, const CacheConfig& cache, const std::map<std::string, DatabaseConfig, std::less<>>& dbs) {
  bool ok = true;
  for (size_t i = 0; i < cache.rules.size(); ++i) {
    const CacheRule& rule = cache.rules[i];
    if (rule.database.empty() || dbs.contains(rule.database)) continue;
    r.error(rule.line, fmt::format("cache.rules[{}].database: there is no [databases.{}]", i, toml_key(rule.database)));
    ok = false;
  }
  return ok;
}

std::string cache_text(const CacheConfig& c) {
  if (c == CacheConfig{}) return {};
  std::string out = fmt::format("\n[cache]\nenabled = {}\ninvalidation = \"{}\"\npublication = {}\n",
                                c.enabled ? "true" : "false",
                                c.invalidation == CacheInvalidation::Logical ? "logical" : "writes",
                                toml_quote(c.publication));
  if (!c.slot_name.empty()) out += fmt::format("slot_name = {}\n", toml_quote(c.slot_name));
  out += fmt::format("max_memory = \"{}\"\nmax_entry_size = \"{}\"\n", format_size(c.max_memory),
                     format_size(c.max_entry_size));
  if (!c.stable_functions.empty()) out += fmt::format("stable_functions = {}\n", string_list_text(c.stable_functions));
  for (const CacheRule& rule : c.rules) {
    out += fmt::format("\n[[cache.rules]]\nname = {}\n", toml_quote(rule.name));
    if (!rule.fingerprints.empty()) out += fmt::format("fingerprints = {}\n", string_list_text(rule.fingerprints));
    if (!rule.tables.empty()) out += fmt::format("tables = {}\n", string_list_text(rule.tables));
    if (!rule.database.empty()) out += fmt::format("database = {}\n", toml_quote(rule.database));
    if (!rule.user.empty()) out += fmt::format("user = {}\n", toml_quote(rule.user));
    out += fmt::format("ttl = \"{}\"\n", format_duration(rule.ttl));
  }
  return out;
}

}  // namespace pgopt::pooler::config_detail
