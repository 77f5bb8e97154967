// The read/write splitting keys of [databases.NAME]: replicas, max_replica_lag, write_functions and
// read_only_functions, with their own `file:line: message` errors and cross-key checks.
#include "pooler/config/split_keys.hpp"

#include <cctype>
#include <set>

namespace pgopt::pooler::config_detail {
namespace {

constexpr std::array<std::string_view, 3> kReplicaKeys{"host", "port", "weight"};
constexpr int kMaxWeight = 1000;

bool identifier(std::string_view part) {
  if (part.empty()) return false;
  auto c0 = static_cast<unsigned char>(part.front());
  if (!(std::isalpha(c0) || c0 == '_' || c0 >= 0x80)) return false;
  return std::all_of(part.begin(), part.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return std::isalnum(c) || c == '_' || c == '$' || c >= 0x80;
  });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool read_replica(Reader& r, const toml::node& n, const std::string& key, ReplicaConfig& out) {
  const toml::table* t = n.as_table();
  if (t == nullptr) {
    r.wrong_type(n, key, "a table such as { host = \"10.0.0.7\", port = 5432 }");
    return false;
  }
  out = ReplicaConfig{};
  out.port = 0;
  out.line = line_of(t->source());
  bool ok = true, has_host = false;
  for (auto&& [k, v] : *t) {
    const std::string_view name = k.str();
    const std::string qualified = fmt::format("{}.{}", key, toml_key(name));
    if (name == "host") {
      has_host = true;
      ok &= r.read_string(v, qualified, false, out.host);
    } else if (name == "port") {
      ok &= r.read_int(v, qualified, 1, 65535, out.port);
    } else if (name == "weight") {
      ok &= r.read_int(v, qualified, 0, kMaxWeight, out.weight);
    } else {
      std::string msg = fmt::format("unknown key {} in {}", toml_quote(name), key);
      if (auto near = closest_match(name, kReplicaKeys)) msg += fmt::format("; did you mean \"{}\"?", *near);
      else msg += "; a replica has host, port and weight";
      r.error(line_of(k.source()), std::move(msg));
      ok = false;
    }
  }
  if (!has_host) {
    r.error(out.line, fmt::format("{}: host is required", key));
    ok = false;
  }
  return ok;
}

}  // namespace

bool read_bool(Reader& r, const toml::node& n, const std::string& key, bool& out) {
  const auto* v = n.as_boolean();
  if (v == nullptr) {
    r.wrong_type(n, key, "a boolean (true or false)");
    return false;
  }
  out = v->get();
  return true;
}

bool read_replicas(Reader& r, const toml::node& n, const std::string& key, std::vector<ReplicaConfig>& out) {
  const toml::array* a = n.as_array();
  if (a == nullptr) {
    r.wrong_type(n, key, "an array of tables such as [ { host = \"10.0.0.7\", port = 5432 } ]");
    return false;
  }
  std::vector<ReplicaConfig> replicas;
  bool ok = true;
  for (size_t i = 0; i < a->size(); ++i) {
    ReplicaConfig rc;
    if (read_replica(r, (*a)[i], fmt::format("{}[{}]", key, i), rc)) replicas.push_back(std::move(rc));
    else ok = false;
  }
  if (ok) out = std::move(replicas);
  return ok;
}

bool read_lag_limit(Reader& r, const toml::node& n, const std::string& key, LagLimit& out) {
  const auto* s = n.as_string();
  if (s == nullptr) {
    if (n.is_number()) {
      r.error(line_of(n.source()),
              fmt::format("{}: a bare number is ambiguous; write a duration such as \"1s\" or a size such as "
                          "\"16MB\"",
                          key));
    } else {
      r.wrong_type(n, key, "a duration such as \"1s\" or a size such as \"16MB\"");
    }
    return false;
  }
  const std::string& text = s->get();
  const bool has_unit = !text.empty() && std::isalpha(static_cast<unsigned char>(text.back()));
  if (!has_unit) {
    r.error(line_of(n.source()),
            fmt::format("{}: {} has no unit; write a duration such as \"1s\" or a size such as \"16MB\"", key,
                        toml_quote(text)));
    return false;
  }
  if (auto d = parse_duration(text); d.value) {
    out = LagLimit::of_time(*d.value);
    return true;
  }
  if (auto b = parse_size(text); b.value) {
    out = LagLimit::of_bytes(*b.value);
    return true;
  }
  r.error(line_of(n.source()),
          fmt::format("{}: {} is neither a duration (units ms, s, min, h, d) nor a size (units B, kB, MB, GB, "
                      "TB)",
                      key, toml_quote(text)));
  return false;
}

bool read_function_list(Reader& r, const toml::node& n, const std::string& key, std::vector<std::string>& out) {
  const toml::array* a = n.as_array();
  if (a == nullptr) {
    r.wrong_type(n, key, "an array of function names such as [\"audit.log_event\"]");
    return false;
  }
  std::vector<std::string> names;
  bool ok = true;
  for (size_t i = 0; i < a->size(); ++i) {
    const toml::node& e = (*a)[i];
    const std::string item = fmt::format("{}[{}]", key, i);
    const auto* s = e.as_string();
    if (s == nullptr) {
      r.wrong_type(e, item, "a string");
      ok = false;
      continue;
    }
    const std::string& name = s->get();
    const size_t dot = name.find('.');
    const bool valid = dot == std::string::npos
                           ? identifier(name)
                           : identifier(std::string_view(name).substr(0, dot)) &&
                                 identifier(std::string_view(name).substr(dot + 1));
    if (!valid) {
      r.error(line_of(e.source()),
              fmt::format("{}: {} is not a function name (\"name\" or \"schema.name\", unquoted identifiers)", item,
                          toml_quote(name)));
      ok = false;
      continue;
    }
    names.push_back(name);
  }
  if (ok) out = std::move(names);
  return ok;
}

bool check_split(Reader& r, const std::string& qualified, DatabaseConfig& db,
                 const std::map<std::string_view, int, std::less<>>& lines) {
  auto line = [&](std::string_view key) {
    auto it = lines.find(key);
    return it != lines.end() ? it->second : db.line;
  };
  bool ok = true;
  std::set<std::pair<std::string, int>> seen;
  for (size_t i = 0; i < db.replicas.size(); ++i) {
    ReplicaConfig& rc = db.replicas[i];
    if (rc.port == 0) rc.port = db.port;
    const std::string where = fmt::format("{}.replicas[{}]", qualified, i);
    if (rc.host == db.host && rc.port == db.port) {
      r.error(rc.line, fmt::format("{}: {}:{} is the primary itself (host and port)", where, rc.host, rc.port));
      ok = false;
    } else if (!seen.emplace(rc.host, rc.port).second) {
      r.error(rc.line, fmt::format("{}: {}:{} is listed twice", where, rc.host, rc.port));
      ok = false;
    }
  }
  if (db.read_write_split && db.replicas.empty() && db.hosts.size() < 2) {  // standby members of hosts read too
    r.error(line("read_write_split"),
            fmt::format("{}.read_write_split = true needs at least one entry in replicas", qualified));
    ok = false;
  }
  std::set<std::string> writers;
  for (const std::string& f : db.write_functions) writers.insert(lower(f));
  for (const std::string& f : db.read_only_functions) {
    if (writers.contains(lower(f))) {
      r.error(line("read_only_functions"),
              fmt::format("{}: {} is in both write_functions and read_only_functions", qualified, toml_quote(f)));
      ok = false;
    }
  }
  return ok;
}

std::string replicas_text(const std::vector<ReplicaConfig>& replicas) {
  std::string out = "[";
  for (size_t i = 0; i < replicas.size(); ++i) {
    const ReplicaConfig& rc = replicas[i];
    out += fmt::format("{}{{ host = {}, port = {}, weight = {} }}", i ? ", " : "", toml_quote(rc.host), rc.port,
                       rc.weight);
  }
  return out + "]";
}

std::string lag_limit_text(const LagLimit& lag) {
  return toml_quote(lag.kind == LagLimit::Kind::Time ? format_duration(lag.time) : format_size(lag.bytes));
}

std::string string_list_text(const std::vector<std::string>& names) {
  std::string out = "[";
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + toml_quote(names[i]);
  return out + "]";
}

}  // namespace pgopt::pooler::config_detail
