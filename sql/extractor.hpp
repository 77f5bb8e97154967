// Internal to sql/: the statement walker behind extract() (extract.cpp: statements, FROM, names;
// extract_predicates.cpp: WHERE/JOIN conditions and expressions). Never include it from outside sql/.
#pragma once

#include <pg_query.pb-c.h>
#include <protobuf-c/protobuf-c.h>

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sql/extract.hpp"
#include "sql/extract_nodes.hpp"

namespace pgopt::sql::detail {

// Visits every Node below `m` (pre-order) using protobuf-c's reflection, so expressions of any
// shape are covered without a case per node type. `f` returns false to skip a node's children.
template <class F>
void walk_message(const ProtobufCMessage* m, F& f);

template <class F>
void walk_node(const Node* n, F& f) {
  if (!n) return;
  if (!f(n)) return;
  walk_message(&n->base, f);
}

template <class F>
void walk_message(const ProtobufCMessage* m, F& f) {
  if (!m || !m->descriptor) return;
  const auto* d = m->descriptor;
  const char* base = reinterpret_cast<const char*>(m);
  for (unsigned i = 0; i < d->n_fields; ++i) {
    const ProtobufCFieldDescriptor& fd = d->fields[i];
    if (fd.type != PROTOBUF_C_TYPE_MESSAGE) continue;
    if (fd.flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
      uint32_t which = *reinterpret_cast<const uint32_t*>(base + fd.quantifier_offset);
      if (which != fd.id) continue;
    }
    auto visit = [&](const ProtobufCMessage* child) {
      if (!child) return;
      if (child->descriptor == &pg_query__node__descriptor) {
        walk_node(reinterpret_cast<const Node*>(child), f);
      } else {
        walk_message(child, f);
      }
    };
    if (fd.label == PROTOBUF_C_LABEL_REPEATED) {
      size_t count = *reinterpret_cast<const size_t*>(base + fd.quantifier_offset);
      auto* items = *reinterpret_cast<ProtobufCMessage* const* const*>(base + fd.offset);
      for (size_t k = 0; k < count && items; ++k) visit(items[k]);
    } else {
      visit(*reinterpret_cast<ProtobufCMessage* const*>(base + fd.offset));
    }
  }
}

struct Resolved {
  Resolved() = default;
  Resolved(bool f, int a, std::string c) : found(f), access(a), column(std::move(c)) {}
  bool found = false;  // attributed to a FROM item (base or not)
  int access = -1;     // base table access, -1 when the item is not a base table
  std::string column;
  // The same output column in the other arms of a UNION [ALL] / INTERSECT / EXCEPT subquery or
  // view: PostgreSQL pushes a condition on it into every arm, so each arm's table gets it too.
  std::vector<std::pair<int, std::string>> more;
};

// The output columns of a subquery or CTE through which the planner takes a condition down to a
// base table column: a plain SELECT list it pulls up into the outer query; the GROUP BY columns of
// a grouped one and the DISTINCT [ON] columns of a DISTINCT one (a condition on those is pushed
// into the subquery's WHERE); each arm of a set operation. Not through LIMIT/OFFSET, window
// functions, grouping sets or row locks. A view reaches the extractor in this shape too (the
// analyzer inlines its definition).
struct Outputs {
  std::map<std::string, Resolved> columns;  // output name -> base table column
  int star_access = -1;                     // SELECT * of a single base table: every name maps
  std::vector<int> star_more;               // ... and the other arms' SELECT * tables
  std::vector<std::string> positions;       // output name per target position ("" when unmapped)
};

struct Entry {
  std::string name;      // alias, or the relation's last name part
  std::string relation;  // base tables only
  int access = -1;       // index into Extraction::reads; -1 for CTEs, subqueries, functions
  Outputs outputs;       // for a subquery or CTE: what its output columns are
};

struct Scope {
  const Scope* parent = nullptr;
  std::vector<Entry> entries;
  std::vector<std::string> ctes;
  std::map<std::string, Outputs> cte_outputs;  // CTEs the planner inlines (not MATERIALIZED)
  bool has_cte(const std::string& name) const {
    for (const Scope* s = this; s; s = s->parent)
      for (const auto& c : s->ctes)
        if (c == name) return true;
    return false;
  }
  Outputs cte(const std::string& name) const {
    for (const Scope* s = this; s; s = s->parent) {
      for (const auto& c : s->ctes) {
        if (c != name) continue;
        auto it = s->cte_outputs.find(name);
        return it == s->cte_outputs.end() ? Outputs{} : it->second;
      }
    }
    return {};
  }
};

struct Operand {
  bool is_column = false;
  Resolved col;
  ValueKind value = ValueKind::None;
  std::string literal;
  bool has_columns = false;  // an expression that reads columns: not usable as an index constant
  // An indexable expression of one column (`lower(email)`): col.column is then the key "(lower(email))"
  // and `base_column` the column inside it.
  std::string base_column;
  // Any other expression of exactly one base-table column (`date_trunc('day', at)`), for reporting.
  Resolved single_column;
  const Node* node = nullptr;
};

class Extractor {
 public:
  Extractor(Extraction& out, const ColumnOwner& owner) : out_(out), owner_(owner) {}
  void statement(const Node* n, const Scope* parent);
  void finish();

 private:
  Extraction& out_;
  const ColumnOwner& owner_;
  std::vector<std::set<std::string>> columns_;  // per access: columns read

  void set_command(const char* c) {
    if (out_.command.empty()) out_.command = c;
  }
  int new_access(const PgQuery__RangeVar* rv, Scope& sc);
  void note_read(const Resolved& r) {
    if (r.access >= 0 && !r.column.empty()) columns_[size_t(r.access)].insert(r.column);
    for (const auto& [access, column] : r.more)
      if (access >= 0 && !column.empty()) columns_[size_t(access)].insert(column);
  }

  // ---- name resolution (extract.cpp) ----
  const Entry* find_entry(const std::string& qualifier, const Scope& sc, const Scope** where) const;
  Resolved resolve_unqualified(const std::string& col, const Scope& sc);
  Resolved resolve(const PgQuery__ColumnRef* ref, const Scope& sc);
  void star(const PgQuery__ColumnRef* ref, const Scope& sc);

  // ---- expressions and conditions (extract_predicates.cpp) ----
  // Records every column an expression reads and analyses the subqueries inside it.
  void expr(const Node* n, const Scope& sc);
  static bool has_column_ref(const Node* n);
  Operand operand(const Node* n, const Scope& sc);
  bool indexable_expression(const Node* n, const Scope& sc, Operand& o);
  Resolved single_column_of(const Node* n, const Scope& sc);
  void add_predicate(const Resolved& col, Predicate p);
  void add_predicate(const Operand& l, Predicate p);  // keeps an expression key's base column
  void add_join(const Resolved& a, const Resolved& b);
  void values_of(const Node* n, const Scope& sc, Predicate& p);
  void a_expr(const PgQuery__AExpr* a, const Scope& sc, bool under_or);
  void comparison(const PgQuery__AExpr* a, std::string op, const Scope& sc, bool under_or);
  void like_predicate(const PgQuery__AExpr* a, const std::string& op, const Scope& sc, bool under_or);
  void expression_predicate(const Operand& l, const std::string& op, bool under_or);
  void simple_predicate(const Node* arg, const Scope& sc, PredicateKind kind, const char* op, bool under_or);
  void condition(const Node* n, const Scope& sc, bool under_or);
  void sublink(const PgQuery__SubLink* s, const Scope& sc, bool under_or);

  // ---- FROM and statements (extract.cpp) ----
  void from_item(const Node* n, Scope& sc, std::vector<const Node*>& quals);
  int side_owner(const Scope& sc, size_t begin, size_t end, const std::string& col) const;
  void with_clause(const PgQuery__WithClause* w, Scope& cte_scope);
  // Returns the single output column when the select lists exactly one plain base-table column
  // (used for IN (SELECT ...) semi-joins).
  // `outputs` (optional) receives the pulled-up output columns when the SELECT is that simple.
  Resolved select(const PgQuery__SelectStmt* s, const Scope* parent, Outputs* outputs = nullptr);
  void pulled_up_outputs(const PgQuery__SelectStmt* s, const Scope& sc, Outputs& outputs);
  // The outputs of a set operation: its arms' by position, under the left arm's names.
  void set_operation_outputs(const PgQuery__SelectStmt* s, const Scope& sc, Outputs& outputs);
  // A column of a subquery or CTE entry, mapped to the base table column below it (access -1 if not).
  static Resolved through(const Entry& e, const std::string& col);
  // ORDER BY/GROUP BY may name an output column or its position.
  const Node* target_ref(const Node* n, const PgQuery__SelectStmt* s,
                         const std::map<std::string, const Node*>& target_alias) const;
  void order_and_limit(const PgQuery__SelectStmt* s, Scope& sc, const std::map<std::string, const Node*>& alias);
  void insert(const PgQuery__InsertStmt* s, const Scope* parent);
  void dml_target(const PgQuery__RangeVar* rel, Scope& sc);
  void update(const PgQuery__UpdateStmt* s, const Scope* parent);
  void remove(const PgQuery__DeleteStmt* s, const Scope* parent);
  void copy(const PgQuery__CopyStmt* s, const Scope* parent);
};

}  // namespace pgopt::sql::detail
