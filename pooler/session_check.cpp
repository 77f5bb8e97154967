// Asking a server what its session holds, after statements whose effects the text does not show.
#include "pooler/session_check.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>

namespace pgopt::pooler {

namespace {

// Settings PostgreSQL 15 reports with ParameterStatus (GUC_REPORT): GucState tracks them from
// those messages, so a check neither carries nor drops them.
bool is_reported(std::string_view lower_name) {
  static constexpr std::array<std::string_view, 13> reported = {
      "application_name", "client_encoding", "datestyle", "default_transaction_read_only", "in_hot_standby",
      "integer_datetimes", "intervalstyle", "is_superuser", "server_encoding", "server_version",
      "session_authorization", "standard_conforming_strings", "timezone"};
  return std::find(reported.begin(), reported.end(), lower_name) != reported.end();
}

std::optional<bool> parse_bool(const std::optional<std::string>& v) {
  if (!v || v->size() != 1) return std::nullopt;
  if ((*v)[0] == 't') return true;
  if ((*v)[0] == 'f') return false;
  return std::nullopt;
}

}  // namespace

bool is_custom_setting_name(std::string_view name) {
  if (name.empty() || name.size() > 127 || name.find('.') == std::string_view::npos) return false;
  char prev = '.';
  for (char c : name) {
    const bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$';
    if (c == '.') {
      if (prev == '.') return false;
    } else if (!word || (prev == '.' && ((c >= '0' && c <= '9') || c == '$'))) {
      return false;
    }
    prev = c;
  }
  return prev != '.';
}

std::string session_check_sql(const std::vector<std::string>& custom_names) {
  std::string names;
  for (const auto& n : custom_names) {
    if (!is_custom_setting_name(n)) continue;
    names += names.empty() ? "'" : ",'";
    names += n;  // letters, digits, _ $ and dots only: a safe literal as it is
    names += "'";
  }
  return "SELECT current_user::text, session_user::text, "
         "(SELECT array_agg(name ORDER BY name) FROM pg_catalog.pg_settings WHERE source = 'session'), "
         "(SELECT array_agg(setting ORDER BY name) FROM pg_catalog.pg_settings WHERE source = 'session'), "
         "(SELECT count(*) FROM pg_catalog.pg_prepared_statements), "
         "EXISTS (SELECT 1 FROM pg_catalog.pg_class WHERE relnamespace = pg_catalog.pg_my_temp_schema()), "
         "EXISTS (SELECT 1 FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND pid = pg_catalog.pg_backend_pid()), "
         "EXISTS (SELECT 1 FROM pg_catalog.pg_listening_channels()), "
         "EXISTS (SELECT 1 FROM pg_catalog.pg_cursors), "
         "(SELECT array_agg(pg_catalog.current_setting(n, true) ORDER BY i) FROM pg_catalog.unnest(ARRAY[" +
         names + "]::text[]) WITH ORDINALITY AS u(n, i)); RESET ALL";
}

std::optional<std::vector<std::optional<std::string>>> parse_text_array(std::string_view t) {
  if (t.size() < 2 || t.front() != '{' || t.back() != '}') return std::nullopt;
  std::vector<std::optional<std::string>> out;
  size_t i = 1;
  const size_t end = t.size() - 1;
  if (i == end) return out;
  for (;;) {
    if (i >= end) return std::nullopt;
    if (t[i] == '"') {
      std::string v;
      ++i;
      for (;;) {
        if (i >= end) return std::nullopt;
        char c = t[i++];
        if (c == '"') break;
        if (c == '\\') {
          if (i >= end) return std::nullopt;
          c = t[i++];
        }
        v += c;
      }
      out.emplace_back(std::move(v));
    } else {
      size_t stop = t.find(',', i);
      if (stop == std::string_view::npos || stop > end) stop = end;
      std::string_view v = t.substr(i, stop - i);
      if (v.empty() || v.find_first_of("\"{}\\") != std::string_view::npos) return std::nullopt;
      if (v.size() == 4 && lower(v) == "null")
        out.emplace_back(std::nullopt);
      else
        out.emplace_back(std::string(v));
      i = stop;
    }
    if (i == end) return out;
    if (t[i] != ',') return std::nullopt;
    ++i;
  }
}

std::optional<SessionFacts> parse_session_facts(const std::vector<std::optional<std::string>>& row,
                                                const std::vector<std::string>& custom_names) {
  if (row.size() != 10 || !row[0] || !row[1] || !row[4]) return std::nullopt;
  SessionFacts f;
  f.current_user = *row[0];
  f.session_user = *row[1];
  // No session-level setting at all: both aggregates are NULL.
  if (row[2].has_value() != row[3].has_value()) return std::nullopt;
  if (row[2]) {
    auto names = parse_text_array(*row[2]);
    auto values = parse_text_array(*row[3]);
    if (!names || !values || names->size() != values->size()) return std::nullopt;
    for (size_t i = 0; i < names->size(); ++i) {
      if (!(*names)[i]) return std::nullopt;
      f.settings.emplace_back(*(*names)[i], (*values)[i].value_or(std::string()));
    }
  }
  const std::string& n = *row[4];
  if (std::from_chars(n.data(), n.data() + n.size(), f.prepared).ec != std::errc()) return std::nullopt;
  auto temp = parse_bool(row[5]), locks = parse_bool(row[6]), listen = parse_bool(row[7]), cursors = parse_bool(row[8]);
  if (!temp || !locks || !listen || !cursors) return std::nullopt;
  f.temp_objects = *temp;
  f.advisory_locks = *locks;
  f.listening = *listen;
  f.cursors = *cursors;
  std::vector<std::string> asked;
  for (const auto& n : custom_names)
    if (is_custom_setting_name(n)) asked.push_back(n);
  if (!asked.empty()) {
    if (!row[9]) return std::nullopt;
    auto values = parse_text_array(*row[9]);
    if (!values || values->size() != asked.size()) return std::nullopt;
    for (size_t i = 0; i < asked.size(); ++i) f.customs.emplace_back(asked[i], (*values)[i]);
  }
  return f;
}

std::string set_role_sql(std::string_view role) {
  std::string out = "SET ROLE \"";
  for (char c : role) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

CarryResult carry_session(const SessionFacts& f, GucState& want, std::string_view login_user,
                          size_t own_statements) {
  CarryResult r;
  if (f.session_user != login_user)
    r.reset_reason = "session authorization changed to " + f.session_user;
  else if (f.temp_objects)
    r.reset_reason = "temporary objects";
  else if (f.advisory_locks)
    r.reset_reason = "session advisory locks";
  else if (f.listening)
    r.reset_reason = "LISTEN";
  else if (f.cursors)
    r.reset_reason = "open cursors";
  else if (f.prepared > long(own_statements))
    r.reset_reason = "prepared statements the pooler did not make";

  std::map<std::string, std::pair<std::string, std::string>> have;  // lower name -> (name, setting)
  for (const auto& [name, value] : f.settings) {
    std::string key = lower(name);
    if (is_reported(key) || is_fixed_parameter(key)) continue;
    if (const GucEntry* e = want.find(key); e && !e->replayed) continue;  // reported by the server
    have.emplace(std::move(key), std::make_pair(name, value));
  }
  for (const auto& [name, value] : f.customs)
    if (value && !value->empty()) have.emplace(lower(name), std::make_pair(name, *value));
  // A custom setting the client had but nobody asked about cannot be told apart from one that is
  // still set: it was asked about (the relay asks for the client's own), so absence means reset.
  std::vector<std::string> gone;
  for (const auto& [key, e] : want.entries())
    if (e.replayed && key != "role" && !have.count(key)) gone.push_back(key);
  for (const auto& key : gone) {
    want.reset(key);
    r.carried.push_back(key);
  }
  for (const auto& [key, nv] : have) {
    std::string sql = set_config_sql(nv.first, nv.second);
    const GucEntry* e = want.find(key);
    if (e && e->replayed && e->value == sql) continue;
    want.set_replayed(nv.first, std::move(sql));
    r.carried.push_back(key);
  }
  const GucEntry* role = want.find("role");
  if (f.current_user != f.session_user) {
    std::string sql = set_role_sql(f.current_user);
    if (!role || role->value != sql) {
      want.set_replayed("role", std::move(sql));
      r.carried.emplace_back("role");
    }
  } else if (role) {
    want.reset("role");
    r.carried.emplace_back("role");
  }
  return r;
}

const std::string& code_reach_sql() {
  // User functions: outside pg_catalog and information_schema, not members of an extension.
  static const std::string sql =
      "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_proc p "
      "WHERE p.pronamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace) "
      "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_proc'::regclass "
      "AND d.objid = p.oid AND d.deptype = 'e')) "
      "OR EXISTS (SELECT 1 FROM pg_catalog.pg_trigger WHERE NOT tgisinternal) "
      // Rules of the database's own relations: pg_settings' rules (UPDATE and INSERT run
      // set_config) are the catalog's, in every database, and would make every write look like
      // one that runs user code (a session check per write transaction); writes to pg_settings are
      // caught by name instead (note_session_effects).
      "OR EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class "
      "WHERE r.rulename <> '_RETURN' "
      "AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)), "
      "EXISTS (SELECT 1 FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_proc p "
      "ON d.refclassid = 'pg_catalog.pg_proc'::regclass AND d.refobjid = p.oid "
      "WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass "
      "AND p.pronamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace) "
      "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e WHERE e.classid = 'pg_catalog.pg_proc'::regclass "
      "AND e.objid = p.oid AND e.deptype = 'e')), "
      // Custom settings that functions and rules set by name: set_config('x.y', ...) or SET x.y.
      "(SELECT array_agg(DISTINCT m[1]) FROM (SELECT p.prosrc AS src FROM pg_catalog.pg_proc p "
      "WHERE p.pronamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace) "
      "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_proc'::regclass "
      "AND d.objid = p.oid AND d.deptype = 'e') "
      "UNION ALL SELECT pg_catalog.pg_get_ruledef(r.oid) FROM pg_catalog.pg_rewrite r WHERE r.rulename <> '_RETURN') s, "
      "pg_catalog.regexp_matches(s.src, "
      "'(?:set_config\\s*\\(\\s*''|\\mset\\s+(?:session\\s+)?)([a-z_][a-z0-9_$]*\\.[a-z_][a-z0-9_$]*)', 'gi') m)";
  return sql;
}

std::vector<std::string> parse_code_reach_names(const std::vector<std::optional<std::string>>& row) {
  std::vector<std::string> out;
  if (row.size() != 3 || !row[2]) return out;
  if (auto names = parse_text_array(*row[2]))
    for (auto& n : *names)
      if (n && is_custom_setting_name(*n)) out.push_back(std::move(*n));
  return out;
}

CodeReach parse_code_reach(const std::vector<std::optional<std::string>>& row) {
  if (row.size() != 3) return CodeReach::Unknown;
  auto writes = parse_bool(row[0]), reads = parse_bool(row[1]);
  if (!writes || !reads) return CodeReach::Unknown;
  if (*reads) return CodeReach::Everything;
  return *writes ? CodeReach::Writes : CodeReach::None;
}

std::string_view to_string(CodeReach r) {
  switch (r) {
    case CodeReach::Unknown: return "unknown";
    case CodeReach::None: return "none";
    case CodeReach::Writes: return "writes";
    case CodeReach::Everything: return "everything";
  }
  return "?";
}

}  // namespace pgopt::pooler
