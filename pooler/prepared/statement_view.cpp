// pg_prepared_statements as one client sees it through the pooler: its own statements under its own
// names, never the pooler's shared pgopt_* statements (whose texts other clients sent).
#include "pooler/prepared/tracker.hpp"

#include "sql/relation_rewrite.hpp"
#include "sql/statement_info.hpp"

namespace pgopt::pooler::prepared {

namespace {

constexpr std::string_view kView = "pg_prepared_statements";

// A literal that reads the same whatever standard_conforming_strings says.
void append_literal(std::string& out, std::string_view s) {
  const bool backslash = s.find('\\') != std::string_view::npos;
  out += backslash ? "E'" : "'";
  for (char c : s) {
    if (c == '\'' || (backslash && c == '\\')) out += c;
    out += c;
  }
  out += '\'';
}

}  // namespace

bool Tracker::mentions_statement_view(std::string_view sql) { return sql::analyze(sql).may(sql::Mark::StatementView); }

std::optional<std::string> Tracker::with_own_statement_view(std::string_view sql) const {
  if (!mentions_statement_view(sql)) return std::nullopt;
  // The client's statements, each with the server's details where its current server has it; then
  // whatever else the server has that is not the pooler's (SQL PREPAREs inside multi-statement
  // strings, which make the server the client's alone until reset).
  std::string view;
  if (!names_.empty()) {
    view = "SELECT c.name, c.statement, s.prepare_time, s.parameter_types, c.from_sql, "
           "coalesce(s.generic_plans, 0) AS generic_plans, coalesce(s.custom_plans, 0) AS custom_plans FROM (VALUES ";
    bool first = true;
    for (const auto& [name, stmt] : names_) {
      view += first ? "(" : ", (";
      first = false;
      append_literal(view, name);
      view += ", ";
      const bool from_sql = !stmt->prepare_sql.empty();
      append_literal(view, from_sql ? stmt->sql_before + name + stmt->sql_after : stmt->query);
      view += ", ";
      append_literal(view, stmt->server_name);
      view += from_sql ? ", true)" : ", false)";
    }
    view += ") AS c (name, statement, server_name, from_sql) LEFT JOIN pg_catalog.pg_prepared_statements s "
            "ON s.name = c.server_name UNION ALL ";
  }
  view += "SELECT * FROM pg_catalog.pg_prepared_statements WHERE name !~ '^pgopt_'";
  return sql::replace_relation(sql, "pg_catalog", kView, view);
}

}  // namespace pgopt::pooler::prepared
