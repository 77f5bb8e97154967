// Session-state effects of SQL statements, read from libpg_query's parse tree (see sql/README.md).
#include "sql/session_effects.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "sql/builtin_functions.hpp"
#include "sql/deep_stack.hpp"
#include "sql/parse_tree.hpp"
#include "sql/tree_walk.hpp"

namespace pgopt::sql {
namespace {

using detail::QualifiedName;

constexpr int kCursorOptHold = 0x0020;  // CURSOR_OPT_HOLD in PostgreSQL's parsenodes.h

void add_dirty(SessionEffects& out, std::string reason) {
  out.dirty = true;
  if (std::find(out.dirty_reasons.begin(), out.dirty_reasons.end(), reason) == out.dirty_reasons.end())
    out.dirty_reasons.push_back(std::move(reason));
}

void add_unknown(SessionEffects& out, std::string reason) {
  if (std::find(out.unknown_reasons.begin(), out.unknown_reasons.end(), reason) == out.unknown_reasons.end())
    out.unknown_reasons.push_back(std::move(reason));
}

void add_guc(SessionEffects& out, GucChange::Kind kind, std::string name, std::string replay = {}) {
  out.gucs.push_back(GucChange{kind, std::move(name), std::move(replay), {}});
}

// A replay statement may be concatenated with others; a trailing line comment would swallow what
// follows, so end such text with a newline.
std::string replay_text(std::string_view stmt_text) {
  std::string out(detail::trim_statement(stmt_text));
  if (out.find("--") != std::string::npos) out += '\n';
  return out;
}

std::string quote_literal(std::string_view s) {
  // E'' with doubled backslashes reads the same whatever standard_conforming_strings says.
  bool backslash = s.find('\\') != std::string_view::npos;
  std::string out = backslash ? "E'" : "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    if (c == '\\') out += '\\';
    out += c;
  }
  out += '\'';
  return out;
}

bool is_builtin(const QualifiedName& q, std::string_view name) {
  return q.name == name && (q.schema.empty() || q.schema == "pg_catalog");
}

bool is_temp_schema(std::string_view schema) { return schema.substr(0, 7) == "pg_temp"; }

bool is_temp_relation(const PgQuery__RangeVar* rv) {
  if (!rv) return false;
  if (rv->relpersistence && std::string_view(rv->relpersistence) == "t") return true;
  return rv->schemaname && is_temp_schema(rv->schemaname);
}

bool is_temp_name(PgQuery__Node* const* parts, size_t n) {
  return is_temp_schema(detail::qualified_name(parts, n).schema);
}

// transaction_isolation / transaction_read_only / transaction_deferrable only ever describe the
// current transaction, even when SET without LOCAL.
bool is_transaction_scoped_guc(std::string_view name) {
  return name == "transaction_isolation" || name == "transaction_read_only" ||
         name == "transaction_deferrable";
}

class StatementAnalyzer {
 public:
  explicit StatementAnalyzer(SessionEffects& out) : out_(out) {}

  void analyze(const PgQuery__Node* stmt, std::string_view text) {
    if (!stmt) return;
    switch (stmt->node_case) {
      case PG_QUERY__NODE__NODE_VARIABLE_SET_STMT:
        variable_set(stmt->variable_set_stmt, text);
        return;
      case PG_QUERY__NODE__NODE_LISTEN_STMT:
        add_dirty(out_, "LISTEN");
        return;
      case PG_QUERY__NODE__NODE_DISCARD_STMT:
        // DISCARD TEMP / PLANS / SEQUENCES only shed state. DISCARD ALL also voids whatever the
        // statements before it in this string did.
        if (stmt->discard_stmt->target == PG_QUERY__DISCARD_MODE__DISCARD_ALL) {
          out_ = SessionEffects{};
          out_.discard_all = true;
        }
        return;
      case PG_QUERY__NODE__NODE_PREPARE_STMT:
        add_dirty(out_, "PREPARE");
        return;
      case PG_QUERY__NODE__NODE_LOAD_STMT:
        add_dirty(out_, "LOAD");
        return;
      case PG_QUERY__NODE__NODE_DECLARE_CURSOR_STMT:
        if (stmt->declare_cursor_stmt->options & kCursorOptHold) add_dirty(out_, "DECLARE ... WITH HOLD");
        function_calls(stmt);
        return;
      case PG_QUERY__NODE__NODE_CREATE_STMT:
      case PG_QUERY__NODE__NODE_VIEW_STMT:
      case PG_QUERY__NODE__NODE_CREATE_SEQ_STMT:
      case PG_QUERY__NODE__NODE_COMPOSITE_TYPE_STMT:
      case PG_QUERY__NODE__NODE_CREATE_ENUM_STMT:
      case PG_QUERY__NODE__NODE_CREATE_DOMAIN_STMT:
        if (const char* what = temp_object(stmt)) add_dirty(out_, what);
        return;
      case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT: {
        const auto* ctas = stmt->create_table_as_stmt;
        if (ctas->into && is_temp_relation(ctas->into->rel))
          add_dirty(out_, ctas->is_select_into ? "SELECT INTO TEMP" : "CREATE TEMP TABLE AS");
        function_calls(stmt);
        return;
      }
      case PG_QUERY__NODE__NODE_CREATE_FUNCTION_STMT: {
        const auto* f = stmt->create_function_stmt;
        if (is_temp_name(f->funcname, f->n_funcname)) add_dirty(out_, "CREATE FUNCTION pg_temp");
        out_.defines_code = true;
        return;  // the body is not run now
      }
      case PG_QUERY__NODE__NODE_CREATE_TRIG_STMT:
      case PG_QUERY__NODE__NODE_RULE_STMT:
      case PG_QUERY__NODE__NODE_CREATE_EVENT_TRIG_STMT:
        out_.defines_code = true;
        return;
      case PG_QUERY__NODE__NODE_DO_STMT:
        // Its body is a string the pooler does not parse: anything may happen, SET ROLE included.
        add_unknown(out_, "DO");
        return;
      case PG_QUERY__NODE__NODE_EXPLAIN_STMT:
        // EXPLAIN ANALYZE runs the statement, effects and all.
        if (detail::explain_executes(stmt->explain_stmt)) analyze(stmt->explain_stmt->query, text);
        return;
      case PG_QUERY__NODE__NODE_SELECT_STMT:
        if (select_into_temp(stmt->select_stmt)) add_dirty(out_, "SELECT INTO TEMP");
        function_calls(stmt);
        return;
      case PG_QUERY__NODE__NODE_CALL_STMT:
        add_unknown(out_, "CALL");
        function_calls(stmt);
        return;
      case PG_QUERY__NODE__NODE_EXECUTE_STMT:
        // Runs a statement prepared earlier, whatever it calls.
        add_unknown(out_, "EXECUTE");
        function_calls(stmt);
        return;
      case PG_QUERY__NODE__NODE_INSERT_STMT:
      case PG_QUERY__NODE__NODE_UPDATE_STMT:
      case PG_QUERY__NODE__NODE_DELETE_STMT:
      case PG_QUERY__NODE__NODE_MERGE_STMT:
      case PG_QUERY__NODE__NODE_COPY_STMT:
        // Statements that evaluate expressions now. DDL bodies (views, rules, BEGIN ATOMIC
        // functions, column defaults) are stored, not run, so their set_config calls are not
        // replayed; their calls of unknown functions still count (below).
        function_calls(stmt);
        return;
      default:
        // DDL may evaluate what it names (an index expression, a column default filled in): a
        // call of an unknown function is checked for, at worst once too often.
        unknown_calls(stmt);
        return;
    }
  }

 private:
  // What a CREATE of a temporary object (table, view, sequence, type, domain) is, for the dirty
  // list; nullptr for a permanent one.
  static const char* temp_object(const PgQuery__Node* stmt) {
    switch (stmt->node_case) {
      case PG_QUERY__NODE__NODE_CREATE_STMT:
        return is_temp_relation(stmt->create_stmt->relation) ? "CREATE TEMP TABLE" : nullptr;
      case PG_QUERY__NODE__NODE_VIEW_STMT:
        return is_temp_relation(stmt->view_stmt->view) ? "CREATE TEMP VIEW" : nullptr;
      case PG_QUERY__NODE__NODE_CREATE_SEQ_STMT:
        return is_temp_relation(stmt->create_seq_stmt->sequence) ? "CREATE TEMP SEQUENCE" : nullptr;
      case PG_QUERY__NODE__NODE_COMPOSITE_TYPE_STMT:
        return is_temp_relation(stmt->composite_type_stmt->typevar) ? "CREATE TYPE pg_temp" : nullptr;
      case PG_QUERY__NODE__NODE_CREATE_ENUM_STMT: {
        const auto* e = stmt->create_enum_stmt;
        return is_temp_name(e->type_name, e->n_type_name) ? "CREATE TYPE pg_temp" : nullptr;
      }
      case PG_QUERY__NODE__NODE_CREATE_DOMAIN_STMT: {
        const auto* d = stmt->create_domain_stmt;
        return is_temp_name(d->domainname, d->n_domainname) ? "CREATE DOMAIN pg_temp" : nullptr;
      }
      default:
        return nullptr;
    }
  }

  static bool select_into_temp(const PgQuery__SelectStmt* s) {
    // SELECT ... INTO of a set operation hangs the INTO clause on the leftmost arm.
    for (; s; s = s->larg) {
      if (s->into_clause && is_temp_relation(s->into_clause->rel)) return true;
    }
    return false;
  }

  // SET search_path's arguments are names (SET search_path = s2, "Foo"): the server stores each
  // double-quoted where needed; quoting each always reads back the same.
  static std::string search_path_setting(const PgQuery__VariableSetStmt* s) {
    std::string out;
    for (size_t i = 0; i < s->n_args; ++i) {
      std::optional<std::string> v = detail::constant_text(s->args[i]);
      if (!v) continue;
      out += out.empty() ? "\"" : ", \"";
      for (char c : *v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
      out += '"';
    }
    return out;
  }

  void variable_set(const PgQuery__VariableSetStmt* s, std::string_view text) {
    if (s->is_local) return;  // SET LOCAL ends with the transaction
    std::string name = detail::ascii_lower(s->name ? s->name : "");
    switch (s->kind) {
      case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_VALUE:
        if (!is_transaction_scoped_guc(name)) add_guc(out_, GucChange::Kind::Set, name, replay_text(text));
        if (name == "search_path" && !out_.gucs.empty()) out_.gucs.back().search_path = search_path_setting(s);
        return;
      case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_DEFAULT:  // SET x TO DEFAULT is RESET x
      case PG_QUERY__VARIABLE_SET_KIND__VAR_RESET:
        if (!is_transaction_scoped_guc(name)) add_guc(out_, GucChange::Kind::Reset, name);
        return;
      case PG_QUERY__VARIABLE_SET_KIND__VAR_RESET_ALL:
        add_guc(out_, GucChange::Kind::ResetAll, "");
        return;
      case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_CURRENT:
        // Copies whatever the value is right now on this server: nothing to replay elsewhere.
        add_dirty(out_, "SET ... FROM CURRENT");
        return;
      case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_MULTI:
        // SET TRANSACTION ... / SET TRANSACTION SNAPSHOT are transaction-scoped.
        if (name == "session characteristics") session_characteristics(s);
        return;
      default:
        return;
    }
  }

  // SET SESSION CHARACTERISTICS AS TRANSACTION ... sets the default_transaction_* GUCs; one change
  // per GUC so a later SET of the same GUC supersedes it.
  void session_characteristics(const PgQuery__VariableSetStmt* s) {
    for (size_t i = 0; i < s->n_args; ++i) {
      const PgQuery__Node* a = s->args[i];
      if (!a || a->node_case != PG_QUERY__NODE__NODE_DEF_ELEM || !a->def_elem->defname) continue;
      std::string guc = std::string("default_") + a->def_elem->defname;
      std::optional<std::string> value = detail::constant_text(a->def_elem->arg);
      if (!value) {
        add_dirty(out_, "SET SESSION CHARACTERISTICS with an unexpected value");
        continue;
      }
      std::string replay = "SET " + guc + " TO ";
      if (guc == "default_transaction_isolation") {
        replay += quote_literal(*value);
      } else {
        replay += (*value == "0" || *value == "false") ? "off" : "on";
      }
      add_guc(out_, GucChange::Kind::Set, guc, replay);
    }
  }

  // Calls of functions that are not pg_catalog built-ins: their bodies may change anything.
  void unknown_calls(const PgQuery__Node* stmt) {
    detail::for_each_node(stmt, [&](const PgQuery__Node* n) {
      if (n->node_case == PG_QUERY__NODE__NODE_FUNC_CALL) unknown_call(n->func_call);
      return true;
    });
  }

  void unknown_call(const PgQuery__FuncCall* f) {
    QualifiedName q = detail::qualified_name(f->funcname, f->n_funcname);
    if (q.name.empty()) return;
    const bool catalog = q.schema.empty() || q.schema == "pg_catalog";
    if (!catalog || !detail::builtin_volatility(q.name)) add_unknown(out_, "calls " + q.display() + "()");
  }

  // set_config(name, value, is_local), the session advisory locks and unknown functions, wherever
  // the statement evaluates expressions.
  void function_calls(const PgQuery__Node* stmt) {
    std::vector<const PgQuery__FuncCall*> in_target_list;
    bool any_set_config = false;
    detail::for_each_node(stmt, [&](const PgQuery__Node* n) {
      if (n->node_case != PG_QUERY__NODE__NODE_FUNC_CALL) return true;
      unknown_call(n->func_call);
      QualifiedName q = detail::qualified_name(n->func_call->funcname, n->func_call->n_funcname);
      if (is_builtin(q, "set_config")) any_set_config = true;
      if (is_builtin(q, "pg_advisory_lock") || is_builtin(q, "pg_advisory_lock_shared") ||
          is_builtin(q, "pg_try_advisory_lock") || is_builtin(q, "pg_try_advisory_lock_shared"))
        add_dirty(out_, "session advisory lock (" + std::string(q.name) + ")");
      return true;
    });
    if (!any_set_config) return;
    // Only calls in a SELECT list are run unconditionally enough to replay; record which those are.
    detail::for_each_node(stmt, [&](const PgQuery__Node* n) {
      if (n->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) return true;
      const PgQuery__SelectStmt* s = n->select_stmt;
      for (size_t i = 0; i < s->n_target_list; ++i) {
        detail::for_each_node(s->target_list[i], [&](const PgQuery__Node* t) {
          if (t->node_case == PG_QUERY__NODE__NODE_FUNC_CALL) in_target_list.push_back(t->func_call);
          return true;
        });
      }
      return true;
    });
    detail::for_each_node(stmt, [&](const PgQuery__Node* n) {
      if (n->node_case != PG_QUERY__NODE__NODE_FUNC_CALL) return true;
      const PgQuery__FuncCall* f = n->func_call;
      if (!is_builtin(detail::qualified_name(f->funcname, f->n_funcname), "set_config")) return true;
      bool listed = std::find(in_target_list.begin(), in_target_list.end(), f) != in_target_list.end();
      set_config(f, listed);
      return true;
    });
  }

  void set_config(const PgQuery__FuncCall* f, bool in_target_list) {
    if (f->n_args != 3 || f->func_variadic) return;  // not the built-in: the server will say so
    bool local_null = false;
    std::optional<bool> is_local = detail::constant_bool(f->args[2], &local_null);
    if (!is_local) {
      // Known only when it runs (a bind parameter, a column): the server is asked afterwards.
      add_unknown(out_, "set_config with non-constant arguments");
      return;
    }
    if (*is_local) return;  // transaction-scoped (a NULL is_local counts as false, as on the server)
    bool name_null = false, value_null = false;
    std::optional<std::string> name = detail::constant_text(f->args[0], &name_null);
    std::optional<std::string> value = detail::constant_text(f->args[1], &value_null);
    if (!name || !value) {
      add_unknown(out_, "set_config with non-constant arguments");
      return;
    }
    if (name_null) return;  // an error on the server
    if (!in_target_list) {
      // It may or may not run (WHERE, CASE ...): the server is asked afterwards.
      add_unknown(out_, "set_config outside a SELECT list");
      return;
    }
    std::string guc = detail::ascii_lower(*name);
    if (value_null) {  // set_config(name, NULL, false) resets to the default
      add_guc(out_, GucChange::Kind::Reset, guc);
      return;
    }
    add_guc(out_, GucChange::Kind::Set, guc,
            "SELECT pg_catalog.set_config(" + quote_literal(*name) + ", " + quote_literal(*value) + ", false)");
    if (guc == "search_path") out_.gucs.back().search_path = *value;
  }

  SessionEffects& out_;
};

SessionEffects session_effects_parsed(std::string_view sql) {
  SessionEffects out;
  detail::ParseTree tree(sql);
  if (!tree.ok()) {
    out.parse_failed = true;
    return out;
  }
  StatementAnalyzer analyzer(out);
  for (size_t i = 0; i < tree.statement_count(); ++i) {
    const PgQuery__RawStmt* raw = tree.statement(i);
    if (raw) analyzer.analyze(raw->stmt, tree.statement_text(sql, i));
  }
  return out;
}

}  // namespace

SessionEffects session_effects(std::string_view sql) {
  if (auto result = detail::call_with_stack_for(sql.size(), [&] { return session_effects_parsed(sql); }))
    return std::move(*result);
  // Not parsed (see deep_stack.hpp): whatever it did, the server is asked afterwards.
  SessionEffects out;
  add_unknown(out, "statement too long to analyse");
  return out;
}

size_t max_analyzed_length() { return detail::kMaxAnalyzedLength; }

}  // namespace pgopt::sql
