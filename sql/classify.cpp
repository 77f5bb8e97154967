// Statement-by-statement read/write classification from libpg_query's parse tree (rules in
// sql/README.md).
#include "sql/classify.hpp"

#include <algorithm>
#include <optional>

#include "sql/builtin_functions.hpp"
#include "sql/deep_stack.hpp"
#include "sql/parse_tree.hpp"
#include "sql/tree_walk.hpp"

namespace pgopt::sql {
namespace {

using detail::QualifiedName;

constexpr int kCursorOptHold = 0x0020;  // CURSOR_OPT_HOLD in PostgreSQL's parsenodes.h

// Strength order for combining statements: the strongest routing constraint wins.
int rank(StatementKind k) {
  switch (k) {
    case StatementKind::Read: return 0;
    case StatementKind::TransactionControl: return 1;
    case StatementKind::SessionState: return 2;
    case StatementKind::Utility: return 3;
    case StatementKind::Write: return 4;
  }
  return 4;
}

void add_reason(Classification& c, std::string reason) {
  if (std::find(c.reasons.begin(), c.reasons.end(), reason) == c.reasons.end())
    c.reasons.push_back(std::move(reason));
}

void raise(Classification& c, StatementKind kind, std::string reason = {}) {
  if (rank(kind) > rank(c.kind)) c.kind = kind;
  if (!reason.empty()) add_reason(c, std::move(reason));
}

void merge(Classification& into, Classification&& from) {
  if (rank(from.kind) > rank(into.kind)) into.kind = from.kind;
  if (from.tx != TxControl::None) into.tx = from.tx;
  for (auto& r : from.reasons) add_reason(into, std::move(r));
}

// ---- function names against the options ------------------------------------------------------

struct ListedName {
  std::string_view schema;
  std::string_view name;
};

ListedName split_listed(std::string_view entry) {
  size_t dot = entry.rfind('.');
  if (dot == std::string_view::npos) return {{}, entry};
  return {entry.substr(0, dot), entry.substr(dot + 1)};
}

// Entries are compared the way PostgreSQL folds unquoted identifiers: case-insensitively.
bool listed(const std::vector<std::string>& list, const QualifiedName& call, bool unqualified_call_matches_any) {
  for (const std::string& entry : list) {
    ListedName e = split_listed(entry);
    if (!detail::iequals(e.name, call.name)) continue;
    if (e.schema.empty()) return true;
    if (call.schema.empty() ? unqualified_call_matches_any : detail::iequals(e.schema, call.schema)) return true;
  }
  return false;
}

// nullopt: the call only reads. Otherwise the reason it makes the statement a write.
std::optional<std::string> function_write_reason(const PgQuery__FuncCall* f, const ClassifierOptions& opt) {
  QualifiedName q = detail::qualified_name(f->funcname, f->n_funcname);
  if (q.name.empty()) return std::nullopt;
  // A write entry matches an unqualified call of the same name: search_path may resolve it there.
  if (listed(opt.write_functions, q, true)) return "calls " + q.display() + "() (write_functions)";
  // A read entry only vouches for an unqualified call when it is unqualified itself.
  if (listed(opt.read_only_functions, q, false)) return std::nullopt;
  bool catalog_schema = q.schema.empty() || q.schema == "pg_catalog";
  if (catalog_schema && detail::builtin_volatility(q.name)) {
    if (q.name == "set_config") {
      // set_config(name, value, true) is SET LOCAL; anything else changes the session.
      std::optional<bool> is_local = f->n_args == 3 ? detail::constant_bool(f->args[2]) : std::nullopt;
      if (!is_local) return std::string("calls set_config() with a non-constant is_local");
      if (*is_local) return std::nullopt;
      return std::string("calls set_config() with is_local false");
    }
    if (detail::is_builtin_writer(q.name)) return "calls " + std::string(q.name) + "()";
    return std::nullopt;
  }
  if (opt.unknown_functions_are_reads) return std::nullopt;
  return "calls unknown function " + q.display() + "()";
}

// ---- statements -------------------------------------------------------------------------------

std::string_view lock_strength(PgQuery__LockClauseStrength s) {
  switch (s) {
    case PG_QUERY__LOCK_CLAUSE_STRENGTH__LCS_FORKEYSHARE: return "SELECT ... FOR KEY SHARE";
    case PG_QUERY__LOCK_CLAUSE_STRENGTH__LCS_FORSHARE: return "SELECT ... FOR SHARE";
    case PG_QUERY__LOCK_CLAUSE_STRENGTH__LCS_FORNOKEYUPDATE: return "SELECT ... FOR NO KEY UPDATE";
    default: return "SELECT ... FOR UPDATE";
  }
}

// Readable names for the DDL and other primary-only statements met most often; the rest are named
// after their parse node ("DDL: CreateTrigStmt").
std::string ddl_reason(const PgQuery__Node* stmt) {
  switch (stmt->node_case) {
    case PG_QUERY__NODE__NODE_CREATE_STMT: return "DDL: CREATE TABLE";
    case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT: return "DDL: ALTER TABLE";
    case PG_QUERY__NODE__NODE_DROP_STMT: return "DDL: DROP";
    case PG_QUERY__NODE__NODE_INDEX_STMT: return "DDL: CREATE INDEX";
    case PG_QUERY__NODE__NODE_TRUNCATE_STMT: return "TRUNCATE";
    case PG_QUERY__NODE__NODE_GRANT_STMT: return "DDL: GRANT/REVOKE";
    case PG_QUERY__NODE__NODE_GRANT_ROLE_STMT: return "DDL: GRANT/REVOKE role";
    case PG_QUERY__NODE__NODE_VIEW_STMT: return "DDL: CREATE VIEW";
    case PG_QUERY__NODE__NODE_CREATE_FUNCTION_STMT: return "DDL: CREATE FUNCTION";
    case PG_QUERY__NODE__NODE_CREATE_SEQ_STMT: return "DDL: CREATE SEQUENCE";
    case PG_QUERY__NODE__NODE_ALTER_SEQ_STMT: return "DDL: ALTER SEQUENCE";
    case PG_QUERY__NODE__NODE_CREATE_SCHEMA_STMT: return "DDL: CREATE SCHEMA";
    case PG_QUERY__NODE__NODE_RENAME_STMT: return "DDL: RENAME";
    case PG_QUERY__NODE__NODE_COMMENT_STMT: return "DDL: COMMENT";
    case PG_QUERY__NODE__NODE_CREATEDB_STMT: return "DDL: CREATE DATABASE";
    case PG_QUERY__NODE__NODE_DROPDB_STMT: return "DDL: DROP DATABASE";
    case PG_QUERY__NODE__NODE_CREATE_EXTENSION_STMT: return "DDL: CREATE EXTENSION";
    case PG_QUERY__NODE__NODE_CREATE_ROLE_STMT: return "DDL: CREATE ROLE";
    case PG_QUERY__NODE__NODE_ALTER_ROLE_STMT: return "DDL: ALTER ROLE";
    case PG_QUERY__NODE__NODE_CREATE_TRIG_STMT: return "DDL: CREATE TRIGGER";
    case PG_QUERY__NODE__NODE_REFRESH_MAT_VIEW_STMT: return "REFRESH MATERIALIZED VIEW";
    case PG_QUERY__NODE__NODE_ALTER_SYSTEM_STMT: return "ALTER SYSTEM";
    default: break;
  }
  // protobuf-c knows each node's message name: "DDL: CreateTrigStmt" beats a bare "DDL".
  const ProtobufCFieldDescriptor* f =
      protobuf_c_message_descriptor_get_field(&pg_query__node__descriptor, unsigned(stmt->node_case));
  const auto* d = f ? static_cast<const ProtobufCMessageDescriptor*>(f->descriptor) : nullptr;
  return std::string("DDL: ") + (d && d->short_name ? d->short_name : "unknown statement");
}

class Classifier {
 public:
  explicit Classifier(const ClassifierOptions& options) : opt_(options) {}

  Classification statement(const PgQuery__Node* stmt) {
    Classification c;
    if (!stmt) return c;
    switch (stmt->node_case) {
      case PG_QUERY__NODE__NODE_SELECT_STMT:
        query(stmt, c);
        return c;
      case PG_QUERY__NODE__NODE_INSERT_STMT:
        return write("INSERT", stmt);
      case PG_QUERY__NODE__NODE_UPDATE_STMT:
        return write("UPDATE", stmt);
      case PG_QUERY__NODE__NODE_DELETE_STMT:
        return write("DELETE", stmt);
      case PG_QUERY__NODE__NODE_MERGE_STMT:
        return write("MERGE", stmt);
      case PG_QUERY__NODE__NODE_EXPLAIN_STMT:
        // Only EXPLAIN ANALYZE runs the statement.
        if (detail::explain_executes(stmt->explain_stmt)) return statement(stmt->explain_stmt->query);
        return c;
      case PG_QUERY__NODE__NODE_COPY_STMT:
        if (stmt->copy_stmt->is_from) return write("COPY FROM", stmt);
        if (stmt->copy_stmt->query) return statement(stmt->copy_stmt->query);  // COPY (query) TO
        return c;
      case PG_QUERY__NODE__NODE_DECLARE_CURSOR_STMT: {
        Classification q = statement(stmt->declare_cursor_stmt->query);
        if (stmt->declare_cursor_stmt->options & kCursorOptHold)
          raise(q, StatementKind::SessionState, "DECLARE ... WITH HOLD");
        return q;
      }
      case PG_QUERY__NODE__NODE_FETCH_STMT:
      case PG_QUERY__NODE__NODE_CLOSE_PORTAL_STMT:
      case PG_QUERY__NODE__NODE_VARIABLE_SHOW_STMT:
        return c;
      case PG_QUERY__NODE__NODE_TRANSACTION_STMT:
        return transaction(stmt->transaction_stmt);
      case PG_QUERY__NODE__NODE_VARIABLE_SET_STMT:
        return variable_set(stmt->variable_set_stmt);
      case PG_QUERY__NODE__NODE_CONSTRAINTS_SET_STMT:
        return tx_control(TxControl::Other);
      case PG_QUERY__NODE__NODE_LISTEN_STMT:
        return session("LISTEN");
      case PG_QUERY__NODE__NODE_UNLISTEN_STMT:
        return session("UNLISTEN");
      case PG_QUERY__NODE__NODE_DISCARD_STMT:
        return session("DISCARD");
      case PG_QUERY__NODE__NODE_PREPARE_STMT:
        return session("PREPARE");
      case PG_QUERY__NODE__NODE_DEALLOCATE_STMT:
        return session("DEALLOCATE");
      case PG_QUERY__NODE__NODE_LOAD_STMT:
        return session("LOAD");
      case PG_QUERY__NODE__NODE_EXECUTE_STMT:
        // The prepared statement's text is on the server, not here.
        return write("EXECUTE of a prepared statement", nullptr);
      case PG_QUERY__NODE__NODE_NOTIFY_STMT:
        return write("NOTIFY", nullptr);
      case PG_QUERY__NODE__NODE_LOCK_STMT:
        return write("LOCK", nullptr);
      case PG_QUERY__NODE__NODE_CALL_STMT:
        return write("CALL", nullptr);
      case PG_QUERY__NODE__NODE_DO_STMT:
        return write("DO block", nullptr);
      case PG_QUERY__NODE__NODE_VACUUM_STMT:
        return utility(stmt->vacuum_stmt->is_vacuumcmd ? "VACUUM" : "ANALYZE");
      case PG_QUERY__NODE__NODE_REINDEX_STMT:
        return utility("REINDEX");
      case PG_QUERY__NODE__NODE_CLUSTER_STMT:
        return utility("CLUSTER");
      case PG_QUERY__NODE__NODE_CHECK_POINT_STMT:
        return utility("CHECKPOINT");
      case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT: {
        const auto* ctas = stmt->create_table_as_stmt;
        if (ctas->is_select_into) return write("SELECT INTO", nullptr);
        if (ctas->objtype == PG_QUERY__OBJECT_TYPE__OBJECT_MATVIEW)
          return write("DDL: CREATE MATERIALIZED VIEW", nullptr);
        return write("DDL: CREATE TABLE AS", nullptr);
      }
      default:
        return write(ddl_reason(stmt), nullptr);
    }
  }

 private:
  // A statement that writes by its nature. Its expressions are still scanned so the reasons
  // mention, say, a nextval() in it, which tells an operator more than "INSERT" alone.
  Classification write(std::string reason, const PgQuery__Node* scan) {
    Classification c;
    c.kind = StatementKind::Write;
    add_reason(c, std::move(reason));
    if (scan) query(scan, c);
    return c;
  }

  static Classification session(std::string reason) {
    Classification c;
    c.kind = StatementKind::SessionState;
    add_reason(c, std::move(reason));
    return c;
  }

  static Classification utility(std::string reason) {
    Classification c;
    c.kind = StatementKind::Utility;
    add_reason(c, std::move(reason));
    return c;
  }

  static Classification tx_control(TxControl tx) {
    Classification c;
    c.kind = StatementKind::TransactionControl;
    c.tx = tx;
    return c;
  }

  // Everything inside a query that makes it a write: SELECT INTO, row locks, data-modifying CTEs
  // (at any depth), and function calls.
  void query(const PgQuery__Node* root, Classification& c) {
    detail::for_each_node(root, [&](const PgQuery__Node* n) {
      switch (n->node_case) {
        case PG_QUERY__NODE__NODE_SELECT_STMT: {
          const PgQuery__SelectStmt* s = n->select_stmt;
          if (s->into_clause) raise(c, StatementKind::Write, "SELECT INTO");
          for (size_t i = 0; i < s->n_locking_clause; ++i) {
            const PgQuery__Node* l = s->locking_clause[i];
            if (l && l->node_case == PG_QUERY__NODE__NODE_LOCKING_CLAUSE)
              raise(c, StatementKind::Write, std::string(lock_strength(l->locking_clause->strength)));
          }
          break;
        }
        case PG_QUERY__NODE__NODE_INSERT_STMT:
        case PG_QUERY__NODE__NODE_UPDATE_STMT:
        case PG_QUERY__NODE__NODE_DELETE_STMT:
        case PG_QUERY__NODE__NODE_MERGE_STMT:
          if (n != root) raise(c, StatementKind::Write, "DML in CTE");
          break;
        case PG_QUERY__NODE__NODE_FUNC_CALL:
          if (auto reason = function_write_reason(n->func_call, opt_)) raise(c, StatementKind::Write, std::move(*reason));
          break;
        default:
          break;
      }
      return true;
    });
  }

  static Classification transaction(const PgQuery__TransactionStmt* t) {
    switch (t->kind) {
      case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_BEGIN:
      case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_START:
        return tx_control(read_only_option(t->options, t->n_options).value_or(false) ? TxControl::BeginReadOnly
                                                                                       : TxControl::Begin);
      case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT: return tx_control(TxControl::Commit);
      case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK: return tx_control(TxControl::Rollback);
      case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_SAVEPOINT: return tx_control(TxControl::Savepoint);
      case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_RELEASE: return tx_control(TxControl::Release);
      case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK_TO: return tx_control(TxControl::RollbackTo);
      case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_PREPARE: return tx_control(TxControl::Prepare2pc);
      case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT_PREPARED:
      case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK_PREPARED: {
        // Finishes a prepared transaction, which only exists on the primary.
        Classification c;
        c.kind = StatementKind::Write;
        c.tx = TxControl::Other;
        add_reason(c, t->kind == PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT_PREPARED ? "COMMIT PREPARED"
                                                                                             : "ROLLBACK PREPARED");
        return c;
      }
      default:
        return tx_control(TxControl::Other);
    }
  }

  // The transaction_read_only item of BEGIN / SET TRANSACTION options, if present.
  static std::optional<bool> read_only_option(PgQuery__Node* const* options, size_t n) {
    std::optional<bool> read_only;
    for (size_t i = 0; i < n; ++i) {
      const PgQuery__Node* o = options[i];
      if (!o || o->node_case != PG_QUERY__NODE__NODE_DEF_ELEM || !o->def_elem->defname) continue;
      if (std::string_view(o->def_elem->defname) != "transaction_read_only") continue;
      std::optional<std::string> v = detail::constant_text(o->def_elem->arg);
      read_only = v && *v != "0";
    }
    return read_only;
  }

  static Classification variable_set(const PgQuery__VariableSetStmt* s) {
    std::string name = detail::ascii_lower(s->name ? s->name : "");
    switch (s->kind) {
      case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_MULTI:
        if (name == "transaction") {
          std::optional<bool> ro = read_only_option(s->args, s->n_args);
          if (!ro) return tx_control(TxControl::Other);
          return tx_control(*ro ? TxControl::SetTransactionReadOnly : TxControl::SetTransactionReadWrite);
        }
        if (name == "transaction snapshot") return tx_control(TxControl::Other);
        return session("SET " + std::string(s->name ? s->name : ""));  // SESSION CHARACTERISTICS
      case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_VALUE:
        // SET [LOCAL] transaction_read_only = on is SET TRANSACTION READ ONLY by another name.
        if (name == "transaction_read_only" && s->n_args == 1) {
          std::optional<std::string> v = detail::constant_text(s->args[0]);
          std::optional<bool> ro = v ? detail::parse_bool_text(*v) : std::nullopt;
          if (ro) return tx_control(*ro ? TxControl::SetTransactionReadOnly : TxControl::SetTransactionReadWrite);
        }
        if (name == "transaction_isolation" || name == "transaction_deferrable" || name == "transaction_read_only")
          return tx_control(TxControl::Other);
        return session((s->is_local ? "SET LOCAL " : "SET ") + name);
      case PG_QUERY__VARIABLE_SET_KIND__VAR_RESET_ALL:
        return session("RESET ALL");
      case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_DEFAULT:
      case PG_QUERY__VARIABLE_SET_KIND__VAR_RESET:
        return session("RESET " + name);
      default:
        return session("SET " + name);
    }
  }

  const ClassifierOptions& opt_;
};

Classification classify_parsed(std::string_view sql, const ClassifierOptions& options) {
  Classification out;
  detail::ParseTree tree(sql);
  if (!tree.ok()) {
    out.kind = StatementKind::Write;
    out.parse_failed = true;
    out.reasons.push_back("does not parse: " + tree.error().message);
    return out;
  }
  Classifier classifier(options);
  for (size_t i = 0; i < tree.statement_count(); ++i) {
    const PgQuery__RawStmt* raw = tree.statement(i);
    if (raw) merge(out, classifier.statement(raw->stmt));
  }
  return out;
}

}  // namespace

Classification classify(std::string_view sql, const ClassifierOptions& options) {
  if (auto result = detail::call_with_stack_for(sql.size(), [&] { return classify_parsed(sql, options); }))
    return std::move(*result);
  // Too long to parse safely, or no thread to parse it on: the primary can run anything.
  Classification out;
  out.kind = StatementKind::Write;
  out.reasons.push_back(sql.size() > detail::kMaxAnalyzedLength
                            ? "not analysed: statement longer than " + std::to_string(detail::kMaxAnalyzedLength) + " bytes"
                            : std::string("not analysed: no thread available for a long statement"));
  return out;
}

std::string_view to_string(StatementKind kind) {
  switch (kind) {
    case StatementKind::Read: return "Read";
    case StatementKind::Write: return "Write";
    case StatementKind::TransactionControl: return "TransactionControl";
    case StatementKind::SessionState: return "SessionState";
    case StatementKind::Utility: return "Utility";
  }
  return "?";
}

std::string_view to_string(TxControl tx) {
  switch (tx) {
    case TxControl::None: return "None";
    case TxControl::Begin: return "Begin";
    case TxControl::BeginReadOnly: return "BeginReadOnly";
    case TxControl::Commit: return "Commit";
    case TxControl::Rollback: return "Rollback";
    case TxControl::Savepoint: return "Savepoint";
    case TxControl::Release: return "Release";
    case TxControl::RollbackTo: return "RollbackTo";
    case TxControl::SetTransactionReadOnly: return "SetTransactionReadOnly";
    case TxControl::SetTransactionReadWrite: return "SetTransactionReadWrite";
    case TxControl::Prepare2pc: return "Prepare2pc";
    case TxControl::Other: return "Other";
  }
  return "?";
}

}  // namespace pgopt::sql
