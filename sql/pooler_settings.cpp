// SET / RESET / SHOW of pgopt.* parameters, recognised from the parse tree (rules in sql/README.md).
#include "sql/pooler_settings.hpp"

#include "sql/parse_tree.hpp"
#include "sql/tree_walk.hpp"

namespace pgopt::sql {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && detail::iequals(s.substr(0, prefix.size()), prefix);
}

// A SET value as PostgreSQL would flatten it for a string parameter: string literals and bare
// words as their text, numbers as written.
std::string value_text(const PgQuery__Node* n) {
  if (auto text = detail::constant_text(n)) return *text;
  return {};
}

}  // namespace

bool may_name_pooler_setting(std::string_view sql) {
  constexpr std::string_view kWord = "pgopt";
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = lower(sql[i]);
    if (c == 'p' && i + kWord.size() <= sql.size() && detail::iequals(sql.substr(i, kWord.size()), kWord)) return true;
    // U&"\0070gopt" spells the name with escapes; rare enough to always take the slow path.
    if (c == 'u' && i + 2 < sql.size() && sql[i + 1] == '&' && sql[i + 2] == '"') return true;
  }
  return false;
}

PoolerSettingCommand pooler_setting_command(std::string_view sql, std::string_view prefix) {
  detail::ParseTree tree(sql);
  if (!tree.ok()) return {};
  PoolerSettingCommand found;
  size_t matches = 0;
  for (size_t i = 0; i < tree.statement_count(); ++i) {
    const PgQuery__RawStmt* raw = tree.statement(i);
    const PgQuery__Node* n = raw ? raw->stmt : nullptr;
    if (!n) continue;
    if (n->node_case == PG_QUERY__NODE__NODE_VARIABLE_SHOW_STMT) {
      std::string name = detail::ascii_lower(n->variable_show_stmt->name ? n->variable_show_stmt->name : "");
      if (!starts_with_ci(name, prefix)) continue;
      ++matches;
      found = {PoolerSettingCommand::Kind::Show, std::move(name), {}};
      continue;
    }
    if (n->node_case != PG_QUERY__NODE__NODE_VARIABLE_SET_STMT) continue;
    const PgQuery__VariableSetStmt* s = n->variable_set_stmt;
    std::string name = detail::ascii_lower(s->name ? s->name : "");
    // VAR_RESET_ALL and SET TRANSACTION / SESSION CHARACTERISTICS have no dotted name.
    if (!starts_with_ci(name, prefix)) continue;
    ++matches;
    PoolerSettingCommand cmd;
    cmd.name = std::move(name);
    switch (s->kind) {
      case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_VALUE:
        cmd.kind = s->is_local ? PoolerSettingCommand::Kind::SetLocal : PoolerSettingCommand::Kind::Set;
        for (size_t a = 0; a < s->n_args; ++a) cmd.values.push_back(value_text(s->args[a]));
        break;
      case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_CURRENT:
        cmd.kind = s->is_local ? PoolerSettingCommand::Kind::SetLocal : PoolerSettingCommand::Kind::SetFromCurrent;
        break;
      case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_DEFAULT:
        cmd.kind = s->is_local ? PoolerSettingCommand::Kind::SetLocal : PoolerSettingCommand::Kind::SetDefault;
        break;
      default:  // VAR_RESET
        cmd.kind = PoolerSettingCommand::Kind::Reset;
        break;
    }
    found = std::move(cmd);
  }
  if (matches == 0) return {};
  if (tree.statement_count() > 1) {
    PoolerSettingCommand mixed;
    mixed.kind = PoolerSettingCommand::Kind::NotAlone;
    mixed.name = std::move(found.name);
    return mixed;
  }
  return found;
}

}  // namespace pgopt::sql
