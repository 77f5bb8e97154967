// written_tables(): the write targets of each statement from its parse tree, leaning to "all"
// whenever the text cannot name them (an extra invalidation is cheap, a missed one serves stale rows).
#include "sql/cache_writes.hpp"

#include <algorithm>

#include "sql/builtin_functions.hpp"
#include "sql/deep_stack.hpp"
#include "sql/parse_tree.hpp"
#include "sql/tree_walk.hpp"

namespace pgopt::sql {
namespace {

using detail::QualifiedName;

bool listed(const std::vector<std::string>& list, const QualifiedName& call, bool unqualified_call_matches_any) {
  for (const std::string& entry : list) {
    size_t dot = entry.rfind('.');
    std::string_view e(entry);
    std::string_view schema = dot == std::string::npos ? std::string_view() : e.substr(0, dot);
    std::string_view name = dot == std::string::npos ? e : e.substr(dot + 1);
    if (!detail::iequals(name, call.name)) continue;
    if (schema.empty()) return true;
    if (call.schema.empty() ? unqualified_call_matches_any : detail::iequals(schema, call.schema)) return true;
  }
  return false;
}

class Collector {
 public:
  Collector(const ClassifierOptions& opt, WrittenTables& out) : opt_(opt), out_(out) {}

  void statement(const PgQuery__Node* stmt) {
    if (!stmt) return;
    switch (stmt->node_case) {
      case PG_QUERY__NODE__NODE_SELECT_STMT:
      case PG_QUERY__NODE__NODE_INSERT_STMT:
      case PG_QUERY__NODE__NODE_UPDATE_STMT:
      case PG_QUERY__NODE__NODE_DELETE_STMT:
      case PG_QUERY__NODE__NODE_MERGE_STMT:
        walk(stmt);
        return;
      case PG_QUERY__NODE__NODE_EXPLAIN_STMT:
        if (detail::explain_executes(stmt->explain_stmt)) statement(stmt->explain_stmt->query);
        return;
      case PG_QUERY__NODE__NODE_COPY_STMT:
        if (stmt->copy_stmt->is_from) table(stmt->copy_stmt->relation);
        else if (stmt->copy_stmt->query) statement(stmt->copy_stmt->query);
        return;
      case PG_QUERY__NODE__NODE_DECLARE_CURSOR_STMT:
        walk(stmt->declare_cursor_stmt->query);  // its functions run as rows are fetched
        return;
      case PG_QUERY__NODE__NODE_TRUNCATE_STMT:
        for (size_t i = 0; i < stmt->truncate_stmt->n_relations; ++i) {
          const PgQuery__Node* r = stmt->truncate_stmt->relations[i];
          if (r && r->node_case == PG_QUERY__NODE__NODE_RANGE_VAR) table(r->range_var);
        }
        return;
      case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT:
        if (stmt->create_table_as_stmt->into) table(stmt->create_table_as_stmt->into->rel);
        walk(stmt->create_table_as_stmt->query);
        return;
      case PG_QUERY__NODE__NODE_TRANSACTION_STMT:
        if (stmt->transaction_stmt->kind == PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT_PREPARED)
          everything("COMMIT PREPARED");
        return;
      case PG_QUERY__NODE__NODE_VARIABLE_SET_STMT:
      case PG_QUERY__NODE__NODE_VARIABLE_SHOW_STMT:
      case PG_QUERY__NODE__NODE_CONSTRAINTS_SET_STMT:
      case PG_QUERY__NODE__NODE_LISTEN_STMT:
      case PG_QUERY__NODE__NODE_UNLISTEN_STMT:
      case PG_QUERY__NODE__NODE_NOTIFY_STMT:
      case PG_QUERY__NODE__NODE_DISCARD_STMT:
      case PG_QUERY__NODE__NODE_PREPARE_STMT:  // runs nothing until EXECUTE, which is `all`
      case PG_QUERY__NODE__NODE_DEALLOCATE_STMT:
      case PG_QUERY__NODE__NODE_LOAD_STMT:
      case PG_QUERY__NODE__NODE_LOCK_STMT:
      case PG_QUERY__NODE__NODE_FETCH_STMT:
      case PG_QUERY__NODE__NODE_CLOSE_PORTAL_STMT:
      case PG_QUERY__NODE__NODE_VACUUM_STMT:
      case PG_QUERY__NODE__NODE_CLUSTER_STMT:
      case PG_QUERY__NODE__NODE_REINDEX_STMT:
      case PG_QUERY__NODE__NODE_CHECK_POINT_STMT:
        return;
      case PG_QUERY__NODE__NODE_EXECUTE_STMT: everything("EXECUTE of a prepared statement"); return;
      case PG_QUERY__NODE__NODE_CALL_STMT: everything("CALL"); return;
      case PG_QUERY__NODE__NODE_DO_STMT: everything("DO block"); return;
      default: everything("DDL or utility statement"); return;
    }
  }

 private:
  void everything(std::string reason) {
    if (!out_.all) out_.reason = std::move(reason);
    out_.all = true;
  }

  void table(const PgQuery__RangeVar* rv) {
    if (!rv || !rv->relname || !*rv->relname) return;
    std::string name = rv->schemaname && *rv->schemaname ? std::string(rv->schemaname) + "." : std::string();
    out_.tables.push_back(name + rv->relname);
  }

  // Every write inside a query: DML targets (at any depth), SELECT INTO, function calls.
  void walk(const PgQuery__Node* root) {
    detail::for_each_node(root, [&](const PgQuery__Node* n) {
      switch (n->node_case) {
        case PG_QUERY__NODE__NODE_SELECT_STMT:
          if (n->select_stmt->into_clause) table(n->select_stmt->into_clause->rel);
          break;
        case PG_QUERY__NODE__NODE_INSERT_STMT: table(n->insert_stmt->relation); break;
        case PG_QUERY__NODE__NODE_UPDATE_STMT: table(n->update_stmt->relation); break;
        case PG_QUERY__NODE__NODE_DELETE_STMT: table(n->delete_stmt->relation); break;
        case PG_QUERY__NODE__NODE_MERGE_STMT: table(n->merge_stmt->relation); break;
        case PG_QUERY__NODE__NODE_FUNC_CALL: call(n->func_call); break;
        default: break;
      }
      return true;
    });
  }

  void call(const PgQuery__FuncCall* f) {
    QualifiedName q = detail::qualified_name(f->funcname, f->n_funcname);
    if (q.name.empty()) return;
    if (listed(opt_.write_functions, q, true)) return everything("calls " + q.display() + "() (write_functions)");
    if (listed(opt_.read_only_functions, q, false)) return;
    bool catalog_schema = q.schema.empty() || q.schema == "pg_catalog";
    if (catalog_schema && detail::builtin_volatility(q.name)) {
      if (q.name == "nextval" || q.name == "setval") sequence(f, q.name);
      return;  // other writing built-ins touch no table a cached SELECT may read (pg_catalog is refused)
    }
    if (!opt_.unknown_functions_are_reads) everything("calls unknown function " + q.display() + "()");
  }

  // nextval('app.seq'): the sequence, when its name is a plain constant; anything else is `all`.
  void sequence(const PgQuery__FuncCall* f, std::string_view fn) {
    std::optional<std::string> text = f->n_args >= 1 ? detail::constant_text(f->args[0]) : std::nullopt;
    if (!text || text->empty() || text->find('"') != std::string::npos) {
      return everything("calls " + std::string(fn) + "() with a computed or quoted sequence name");
    }
    out_.tables.push_back(detail::ascii_lower(*text));
  }

  const ClassifierOptions& opt_;
  WrittenTables& out_;
};

WrittenTables written_parsed(std::string_view sql, const ClassifierOptions& options) {
  WrittenTables out;
  detail::ParseTree tree(sql);
  if (!tree.ok()) {
    // The server's parser may accept what this one does not (a newer version): assume the worst.
    out.all = true;
    out.reason = "does not parse: " + tree.error().message;
    return out;
  }
  Collector collector(options, out);
  for (size_t i = 0; i < tree.statement_count(); ++i)
    if (const PgQuery__RawStmt* raw = tree.statement(i)) collector.statement(raw->stmt);
  std::sort(out.tables.begin(), out.tables.end());
  out.tables.erase(std::unique(out.tables.begin(), out.tables.end()), out.tables.end());
  return out;
}

}  // namespace

WrittenTables written_tables(std::string_view sql, const ClassifierOptions& options) {
  if (auto r = detail::call_with_stack_for(sql.size(), [&] { return written_parsed(sql, options); }))
    return std::move(*r);
  WrittenTables out;
  out.all = true;
  out.reason = "not analysed: statement too long";
  return out;
}

}  // namespace pgopt::sql
