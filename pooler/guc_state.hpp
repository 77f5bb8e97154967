// Session settings (GUCs) a client expects or a server has, and the SQL that turns one into the other.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace pgopt::pooler {

// Two kinds of entry. Reported: a GUC the server announces in ParameterStatus (client_encoding,
// DateStyle, TimeZone, application_name, ...); its value is the server's canonical text and changes
// arrive by themselves. Replayed: any other session-level setting a client made with SQL
// (`SET search_path = ...`, `set_config(..., false)`, `SET ROLE`); the server never reports it, so
// we keep the statement that made it and run it again on the next server the client uses.
struct GucEntry {
  std::string name;   // as the server spells it ("DateStyle")
  std::string value;  // reported: the value; replayed: the SQL statement
  bool replayed = false;
  bool operator==(const GucEntry&) const = default;
};

class GucState {
 public:
  void set_reported(std::string_view name, std::string_view value);
  void set_replayed(std::string_view name, std::string sql);
  void reset(std::string_view name);  // drops a replayed entry (RESET x)
  void reset_all_replayed();          // RESET ALL / DISCARD ALL
  const GucEntry* find(std::string_view name) const;
  const std::map<std::string, GucEntry, std::less<>>& entries() const { return entries_; }
  bool operator==(const GucState&) const = default;

 private:
  std::map<std::string, GucEntry, std::less<>> entries_;  // by lower-case name
};

std::string lower(std::string_view s);

// Reported parameters a client cannot set; never compared or synced.
bool is_fixed_parameter(std::string_view lower_name);

// "SELECT pg_catalog.set_config(name, value, false)" with both as safe literals.
std::string set_config_sql(std::string_view name, std::string_view value);

// SQL that makes a server whose settings are `have` behave like `want`; empty when nothing differs.
// Values travel as dollar-quoted literals through set_config so no client text is interpolated raw.
std::string sync_sql(const GucState& want, const GucState& have);

}  // namespace pgopt::pooler
