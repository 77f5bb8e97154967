// Transaction statements and their modes (READ ONLY / READ WRITE, SERIALIZABLE) from the parse tree.
#include "sql/transaction_modes.hpp"

#include <string>

#include "sql/parse_tree.hpp"
#include "sql/tree_walk.hpp"

namespace pgopt::sql {
namespace {

using Kind = TransactionStep::Kind;

// transaction_read_only / transaction_isolation items of BEGIN and SET TRANSACTION options
// (the grammar turns READ ONLY into transaction_read_only = 1, ISOLATION LEVEL x into
// transaction_isolation = 'x').
void read_modes(PgQuery__Node* const* options, size_t n, TransactionStep& step) {
  for (size_t i = 0; i < n; ++i) {
    const PgQuery__Node* o = options[i];
    if (!o || o->node_case != PG_QUERY__NODE__NODE_DEF_ELEM || !o->def_elem->defname) continue;
    std::string_view name = o->def_elem->defname;
    std::optional<std::string> v = detail::constant_text(o->def_elem->arg);
    if (name == "transaction_read_only") {
      if (v) step.read_only = *v != "0";
    } else if (name == "transaction_isolation") {
      if (v && detail::iequals(*v, "serializable")) step.serializable = true;
    }
  }
}

TransactionStep transaction(const PgQuery__TransactionStmt* t) {
  TransactionStep step;
  switch (t->kind) {
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_BEGIN:
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_START:
      step.kind = Kind::Begin;
      read_modes(t->options, t->n_options, step);
      break;
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT:
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK:
      step.kind = Kind::End;
      step.chain = t->chain;
      break;
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_SAVEPOINT:
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_RELEASE:
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK_TO:
      step.kind = Kind::Neutral;
      break;
    default:  // PREPARE TRANSACTION, COMMIT PREPARED, ROLLBACK PREPARED: two-phase commit
      step.kind = Kind::PrimaryOnly;
      break;
  }
  return step;
}

TransactionStep variable_set(const PgQuery__VariableSetStmt* s) {
  TransactionStep step;
  std::string name = detail::ascii_lower(s->name ? s->name : "");
  if (s->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_SET_MULTI) {
    if (name == "transaction") {
      step.kind = Kind::SetTransaction;
      read_modes(s->args, s->n_args, step);
    } else if (name == "transaction snapshot") {
      step.kind = Kind::PrimaryOnly;  // the snapshot was exported by a server we cannot name
    }
    return step;  // SET SESSION CHARACTERISTICS: session state, a Query here
  }
  if (name != "transaction_read_only" && name != "transaction_isolation" && name != "transaction_deferrable")
    return step;
  step.kind = Kind::SetTransaction;
  if (s->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_SET_VALUE && s->n_args == 1) {
    std::optional<std::string> v = detail::constant_text(s->args[0]);
    if (v && name == "transaction_read_only") step.read_only = detail::parse_bool_text(*v);
    if (v && name == "transaction_isolation") step.serializable = detail::iequals(*v, "serializable");
  }
  return step;
}

}  // namespace

TransactionSteps transaction_steps(std::string_view sql) {
  TransactionSteps out;
  detail::ParseTree tree(sql);
  if (!tree.ok()) {
    out.parse_failed = true;
    return out;
  }
  for (size_t i = 0; i < tree.statement_count(); ++i) {
    const PgQuery__RawStmt* raw = tree.statement(i);
    const PgQuery__Node* n = raw ? raw->stmt : nullptr;
    TransactionStep step;
    if (n && n->node_case == PG_QUERY__NODE__NODE_TRANSACTION_STMT) step = transaction(n->transaction_stmt);
    else if (n && n->node_case == PG_QUERY__NODE__NODE_VARIABLE_SET_STMT) step = variable_set(n->variable_set_stmt);
    else if (n && n->node_case == PG_QUERY__NODE__NODE_CONSTRAINTS_SET_STMT) step.kind = Kind::Neutral;
    out.steps.push_back(step);
  }
  return out;
}

bool is_bare_begin(std::string_view q) {
  // Runs on every batch that opens a server connection: no allocation, no locale calls, and most
  // texts stop at their first byte (not b/B/s/S after the blanks) or their first word.
  auto is_alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  char words[18];
  size_t n = 0, i = 0;
  while (i < q.size()) {
    const char c = q[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ';') {
      ++i;
      continue;
    }
    if (!is_alpha(c)) return false;
    if (n == 0 && c != 'b' && c != 'B' && c != 's' && c != 'S') return false;
    if (n > 0) {
      if (n == sizeof words) return false;
      words[n++] = ' ';
    }
    const size_t word_begin = n;
    while (i < q.size() && is_alpha(q[i])) {
      if (n == sizeof words) return false;
      words[n++] = char(q[i++] | 0x20);  // ASCII letters only here: lower-case
    }
    // Every answer starts with begin or start: `select ...` stops after its first word.
    if (word_begin == 0 && (n != 5 || (std::string_view(words, n) != "begin" && std::string_view(words, n) != "start")))
      return false;
  }
  const std::string_view w(words, n);
  return w == "begin" || w == "begin work" || w == "begin transaction" || w == "start transaction";
}

}  // namespace pgopt::sql
