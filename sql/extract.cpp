// Walks a libpg_query tree and reports, per base table, the predicates, joins, ordering and columns a
// statement uses, plus the writes it makes (see extract.hpp).
#include "sql/extract.hpp"

#include <protobuf-c/protobuf-c.h>

#include <map>
#include <set>

#include "sql/extract_nodes.hpp"
#include "sql/parse_tree.hpp"

namespace pgopt::sql {

const char* to_string(PredicateKind kind) {
  switch (kind) {
    case PredicateKind::Equal: return "eq";
    case PredicateKind::In: return "in";
    case PredicateKind::Range: return "range";
    case PredicateKind::IsNull: return "is_null";
    case PredicateKind::IsNotNull: return "is_not_null";
    case PredicateKind::LikePrefix: return "like_prefix";
    case PredicateKind::LikeInfix: return "like_infix";
    case PredicateKind::Like: return "like";
    case PredicateKind::BoolTrue: return "bool_true";
    case PredicateKind::BoolFalse: return "bool_false";
    case PredicateKind::NotEqual: return "not_eq";
    case PredicateKind::Other: return "other";
  }
  return "other";
}

const char* to_string(WriteKind kind) {
  switch (kind) {
    case WriteKind::Insert: return "insert";
    case WriteKind::Update: return "update";
    case WriteKind::Delete: return "delete";
    case WriteKind::Copy: return "copy";
  }
  return "insert";
}

namespace {
using namespace detail;

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

struct Entry {
  std::string name;      // alias, or the relation's last name part
  std::string relation;  // base tables only
  int access = -1;       // index into Extraction::reads; -1 for CTEs, subqueries, functions
};

struct Scope {
  const Scope* parent = nullptr;
  std::vector<Entry> entries;
  std::vector<std::string> ctes;
  bool has_cte(const std::string& name) const {
    for (const Scope* s = this; s; s = s->parent)
      for (const auto& c : s->ctes)
        if (c == name) return true;
    return false;
  }
};

struct Resolved {
  bool found = false;  // attributed to a FROM item (base or not)
  int access = -1;     // base table access, -1 when the item is not a base table
  std::string column;
};

struct Operand {
  bool is_column = false;
  Resolved col;
  ValueKind value = ValueKind::None;
  std::string literal;
  bool has_columns = false;  // an expression that reads columns: not usable as an index constant
};

std::string last_part(const std::string& relation) {
  auto dot = relation.rfind('.');
  return dot == std::string::npos ? relation : relation.substr(dot + 1);
}

PredicateKind kind_for_op(const std::string& op) {
  if (op == "=") return PredicateKind::Equal;
  if (op == "<" || op == ">" || op == "<=" || op == ">=") return PredicateKind::Range;
  if (op == "<>" || op == "!=") return PredicateKind::NotEqual;
  if (op == "~" || op == "~*" || op == "~~*") return PredicateKind::LikeInfix;
  return PredicateKind::Other;
}

std::string mirror(const std::string& op) {
  if (op == "<") return ">";
  if (op == ">") return "<";
  if (op == "<=") return ">=";
  if (op == ">=") return "<=";
  return op;
}

class Extractor {
 public:
  Extractor(Extraction& out, const ColumnOwner& owner) : out_(out), owner_(owner) {}

  void statement(const Node* n, const Scope* parent) {
    if (!n) return;
    switch (n->node_case) {
      case PG_QUERY__NODE__NODE_SELECT_STMT: set_command("SELECT"); select(n->select_stmt, parent); break;
      case PG_QUERY__NODE__NODE_INSERT_STMT: set_command("INSERT"); insert(n->insert_stmt, parent); break;
      case PG_QUERY__NODE__NODE_UPDATE_STMT: set_command("UPDATE"); update(n->update_stmt, parent); break;
      case PG_QUERY__NODE__NODE_DELETE_STMT: set_command("DELETE"); remove(n->delete_stmt, parent); break;
      case PG_QUERY__NODE__NODE_COPY_STMT: set_command("COPY"); copy(n->copy_stmt, parent); break;
      case PG_QUERY__NODE__NODE_EXPLAIN_STMT: statement(n->explain_stmt->query, parent); break;
      case PG_QUERY__NODE__NODE_PREPARE_STMT: statement(n->prepare_stmt->query, parent); break;
      case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT: statement(n->create_table_as_stmt->query, parent); break;
      case PG_QUERY__NODE__NODE_DECLARE_CURSOR_STMT: statement(n->declare_cursor_stmt->query, parent); break;
      default: set_command("UTILITY"); break;
    }
  }

  void finish() {
    for (size_t i = 0; i < out_.reads.size(); ++i) {
      auto& cols = columns_[i];
      out_.reads[i].columns.assign(cols.begin(), cols.end());
    }
    std::set<std::string> unique(out_.unresolved.begin(), out_.unresolved.end());
    out_.unresolved.assign(unique.begin(), unique.end());
  }

 private:
  Extraction& out_;
  const ColumnOwner& owner_;
  std::vector<std::set<std::string>> columns_;  // per access: columns read

  void set_command(const char* c) {
    if (out_.command.empty()) out_.command = c;
  }

  int new_access(const PgQuery__RangeVar* rv, Scope& sc) {
    TableAccess a;
    a.relation = relation_name(rv);
    a.alias = rv->alias ? lower(str_or_empty(rv->alias->aliasname)) : "";
    out_.reads.push_back(std::move(a));
    columns_.emplace_back();
    int idx = int(out_.reads.size() - 1);
    Entry e;
    e.relation = out_.reads.back().relation;
    e.name = rv->alias ? out_.reads.back().alias : last_part(e.relation);
    e.access = idx;
    sc.entries.push_back(e);
    return idx;
  }

  void note_read(const Resolved& r) {
    if (r.access >= 0 && !r.column.empty()) columns_[size_t(r.access)].insert(r.column);
  }

  // ---- name resolution ----

  const Entry* find_entry(const std::string& qualifier, const Scope& sc, const Scope** where) const {
    for (const Scope* s = &sc; s; s = s->parent) {
      for (const auto& e : s->entries) {
        if (e.name == qualifier || (!e.relation.empty() && e.relation == qualifier &&
                                    out_.reads[size_t(e.access)].alias.empty())) {
          if (where) *where = s;
          return &e;
        }
      }
    }
    return nullptr;
  }

  Resolved resolve_unqualified(const std::string& col, const Scope& sc) {
    for (const Scope* s = &sc; s; s = s->parent) {
      if (s->entries.empty()) continue;
      if (s->entries.size() == 1) return {true, s->entries[0].access, col};
      if (!owner_) {
        out_.unresolved.push_back(col);
        return {false, -1, col};
      }
      int match = -1, matches = 0;
      bool non_base = false;
      for (const auto& e : s->entries) {
        if (e.access < 0) {
          non_base = true;
          continue;
        }
        if (owner_(e.relation, col)) {
          if (match != e.access) ++matches;
          match = e.access;
        }
      }
      if (matches == 1) return {true, match, col};
      if (matches > 1) {
        out_.unresolved.push_back(col);
        return {false, -1, col};
      }
      if (non_base) return {true, -1, col};  // most likely a subquery's or CTE's output column
    }
    out_.unresolved.push_back(col);
    return {false, -1, col};
  }

  Resolved resolve(const PgQuery__ColumnRef* ref, const Scope& sc) {
    std::vector<std::string> parts;
    for (size_t i = 0; i < ref->n_fields; ++i) {
      if (ref->fields[i]->node_case == PG_QUERY__NODE__NODE_A_STAR) return {};
      parts.push_back(lower(string_value(ref->fields[i])));
    }
    if (parts.empty()) return {};
    std::string col = parts.back();
    if (parts.size() == 1) return resolve_unqualified(col, sc);
    std::string qualifier = parts[parts.size() - 2];
    if (parts.size() >= 3) qualifier = parts[parts.size() - 3] + "." + qualifier;
    const Entry* e = find_entry(qualifier, sc, nullptr);
    if (!e && parts.size() >= 3) e = find_entry(parts[parts.size() - 2], sc, nullptr);
    if (!e) return {false, -1, col};  // e.g. a composite-type field or a typo the server rejects
    return {true, e->access, col};
  }

  void star(const PgQuery__ColumnRef* ref, const Scope& sc) {
    if (ref->n_fields == 1) {
      for (const auto& e : sc.entries)
        if (e.access >= 0) out_.reads[size_t(e.access)].all_columns = true;
      return;
    }
    std::string qualifier = lower(string_value(ref->fields[ref->n_fields - 2]));
    if (const Entry* e = find_entry(qualifier, sc, nullptr); e && e->access >= 0)
      out_.reads[size_t(e->access)].all_columns = true;
  }

  // ---- expressions ----

  // Records every column an expression reads and analyses the subqueries inside it.
  void expr(const Node* n, const Scope& sc) {
    auto f = [&](const Node* x) -> bool {
      switch (x->node_case) {
        case PG_QUERY__NODE__NODE_COLUMN_REF: {
          const auto* ref = x->column_ref;
          if (ref->n_fields && ref->fields[ref->n_fields - 1]->node_case == PG_QUERY__NODE__NODE_A_STAR) {
            star(ref, sc);
          } else {
            note_read(resolve(ref, sc));
          }
          return false;
        }
        case PG_QUERY__NODE__NODE_SUB_LINK:
          sublink(x->sub_link, sc, false);
          return false;
        case PG_QUERY__NODE__NODE_SELECT_STMT:
          select(x->select_stmt, &sc);
          return false;
        default: return true;
      }
    };
    walk_node(n, f);
  }

  static bool has_column_ref(const Node* n) {
    bool found = false;
    auto f = [&](const Node* x) -> bool {
      if (x->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) found = true;
      return !found && x->node_case != PG_QUERY__NODE__NODE_SUB_LINK;
    };
    walk_node(n, f);
    return found;
  }

  Operand operand(const Node* n, const Scope& sc) {
    Operand o;
    if (!n) return o;
    if (n->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) {
      const auto* ref = n->column_ref;
      if (ref->n_fields && ref->fields[ref->n_fields - 1]->node_case == PG_QUERY__NODE__NODE_A_STAR) {
        star(ref, sc);
        o.has_columns = true;
        return o;
      }
      o.is_column = true;
      o.col = resolve(ref, sc);
      note_read(o.col);
      return o;
    }
    std::string lit = literal_text(n);
    if (!lit.empty()) {
      o.value = ValueKind::Literal;
      o.literal = lit;
      return o;
    }
    if (is_param(n)) {
      o.value = ValueKind::Parameter;
      return o;
    }
    o.has_columns = has_column_ref(n);
    o.value = ValueKind::Expression;
    expr(n, sc);
    return o;
  }

  void add_predicate(const Resolved& col, Predicate p) {
    if (col.access < 0 || col.column.empty()) return;
    p.column = col.column;
    out_.reads[size_t(col.access)].predicates.push_back(std::move(p));
  }

  void add_join(const Resolved& a, const Resolved& b) {
    if (a.access < 0 || b.access < 0) return;
    auto& ra = out_.reads[size_t(a.access)];
    auto& rb = out_.reads[size_t(b.access)];
    ra.joins.push_back({a.column, rb.relation, b.column});
    rb.joins.push_back({b.column, ra.relation, a.column});
  }

  void values_of(const Node* n, const Scope& sc, Predicate& p) {
    // IN lists arrive as a List node; ANY(ARRAY[...]) as an A_ArrayExpr.
    const Node* const* items = nullptr;
    size_t count = 0;
    if (n && n->node_case == PG_QUERY__NODE__NODE_LIST) {
      items = n->list->items;
      count = n->list->n_items;
    } else if (n && n->node_case == PG_QUERY__NODE__NODE_A_ARRAY_EXPR) {
      items = n->a_array_expr->elements;
      count = n->a_array_expr->n_elements;
    }
    if (!items) {
      Operand o = operand(n, sc);
      p.value = o.value;
      if (o.value == ValueKind::Literal) p.literals.push_back(o.literal);
      return;
    }
    p.value = ValueKind::Literal;
    for (size_t i = 0; i < count; ++i) {
      Operand o = operand(items[i], sc);
      if (o.value == ValueKind::Literal) {
        p.literals.push_back(o.literal);
      } else if (o.value == ValueKind::Parameter && p.value == ValueKind::Literal) {
        p.value = ValueKind::Parameter;
      } else if (o.value != ValueKind::Parameter) {
        p.value = ValueKind::Expression;
      }
    }
    if (p.value != ValueKind::Literal) p.literals.clear();
  }

  void a_expr(const PgQuery__AExpr* a, const Scope& sc, bool under_or) {
    std::string op = a->n_name ? string_value(a->name[a->n_name - 1]) : "";
    switch (a->kind) {
      case PG_QUERY__A__EXPR__KIND__AEXPR_OP:
      case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_DISTINCT: {
        if (a->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NOT_DISTINCT) op = "=";
        Operand l = operand(a->lexpr, sc), r = operand(a->rexpr, sc);
        if (l.is_column && r.is_column) {
          if (op == "=" && l.col.access != r.col.access) add_join(l.col, r.col);
          return;
        }
        if (!l.is_column && r.is_column) {
          std::swap(l, r);
          op = mirror(op);
        }
        if (!l.is_column || r.has_columns || !a->lexpr || !a->rexpr) return;
        Predicate p;
        p.kind = kind_for_op(op);
        p.op = op == "~~*" ? "ILIKE" : op;
        p.value = r.value;
        if (r.value == ValueKind::Literal) p.literals.push_back(r.literal);
        if (p.kind == PredicateKind::Equal && r.value == ValueKind::Literal) {
          if (r.literal == "true") p.kind = PredicateKind::BoolTrue;
          if (r.literal == "false") p.kind = PredicateKind::BoolFalse;
        }
        p.lower_bound = op == ">" || op == ">=";
        p.upper_bound = op == "<" || op == "<=";
        p.under_or = under_or;
        add_predicate(l.col, std::move(p));
        return;
      }
      case PG_QUERY__A__EXPR__KIND__AEXPR_OP_ANY:
      case PG_QUERY__A__EXPR__KIND__AEXPR_IN: {
        Operand l = operand(a->lexpr, sc);
        Predicate p;
        values_of(a->rexpr, sc, p);
        if (!l.is_column) return;
        if (op == "=") {
          p.kind = PredicateKind::In;
          p.op = a->kind == PG_QUERY__A__EXPR__KIND__AEXPR_IN ? "IN" : "= ANY";
        } else {
          p.kind = op == "<>" ? PredicateKind::NotEqual : PredicateKind::Other;
          p.op = a->kind == PG_QUERY__A__EXPR__KIND__AEXPR_IN ? "NOT IN" : op + " ANY";
        }
        p.under_or = under_or;
        add_predicate(l.col, std::move(p));
        return;
      }
      case PG_QUERY__A__EXPR__KIND__AEXPR_LIKE:
      case PG_QUERY__A__EXPR__KIND__AEXPR_ILIKE: {
        Operand l = operand(a->lexpr, sc), r = operand(a->rexpr, sc);
        if (!l.is_column || r.has_columns) return;
        bool ilike = a->kind == PG_QUERY__A__EXPR__KIND__AEXPR_ILIKE;
        bool negated = op.size() > 1 && op[0] == '!';
        Predicate p;
        p.op = std::string(negated ? "NOT " : "") + (ilike ? "ILIKE" : "LIKE");
        p.value = r.value;
        if (r.value == ValueKind::Literal) p.literals.push_back(r.literal);
        std::string pattern;
        if (negated) {
          p.kind = PredicateKind::Other;
        } else if (string_constant(a->rexpr, pattern)) {
          bool leading_wild = pattern.empty() || pattern[0] == '%' || pattern[0] == '_';
          p.kind = (ilike || leading_wild) ? PredicateKind::LikeInfix : PredicateKind::LikePrefix;
        } else {
          p.kind = ilike ? PredicateKind::LikeInfix : PredicateKind::Like;
        }
        p.under_or = under_or;
        add_predicate(l.col, std::move(p));
        return;
      }
      case PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN:
      case PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN_SYM: {
        Operand l = operand(a->lexpr, sc);
        Predicate p;
        values_of(a->rexpr, sc, p);
        if (!l.is_column) return;
        p.kind = PredicateKind::Range;
        p.op = "BETWEEN";
        p.lower_bound = p.upper_bound = true;
        p.under_or = under_or;
        add_predicate(l.col, std::move(p));
        return;
      }
      default: {
        Operand l = operand(a->lexpr, sc);
        operand(a->rexpr, sc);
        if (l.is_column) {
          Predicate p;
          p.kind = PredicateKind::Other;
          p.op = op;
          p.under_or = under_or;
          add_predicate(l.col, std::move(p));
        }
        return;
      }
    }
  }

  void simple_predicate(const Node* arg, const Scope& sc, PredicateKind kind, const char* op, bool under_or) {
    if (arg && arg->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) {
      Operand o = operand(arg, sc);
      if (!o.is_column) return;
      Predicate p;
      p.kind = kind;
      p.op = op;
      p.under_or = under_or;
      add_predicate(o.col, std::move(p));
    } else {
      expr(arg, sc);
    }
  }

  void condition(const Node* n, const Scope& sc, bool under_or) {
    if (!n) return;
    switch (n->node_case) {
      case PG_QUERY__NODE__NODE_BOOL_EXPR: {
        const auto* b = n->bool_expr;
        if (b->boolop == PG_QUERY__BOOL_EXPR_TYPE__NOT_EXPR) {
          if (b->n_args == 1 && b->args[0]->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) {
            simple_predicate(b->args[0], sc, PredicateKind::BoolFalse, "NOT", under_or);
          } else {
            for (size_t i = 0; i < b->n_args; ++i) expr(b->args[i], sc);
          }
          return;
        }
        bool in_or = under_or || b->boolop == PG_QUERY__BOOL_EXPR_TYPE__OR_EXPR;
        for (size_t i = 0; i < b->n_args; ++i) condition(b->args[i], sc, in_or);
        return;
      }
      case PG_QUERY__NODE__NODE_A_EXPR: a_expr(n->a_expr, sc, under_or); return;
      case PG_QUERY__NODE__NODE_NULL_TEST: {
        bool is_null = n->null_test->nulltesttype == PG_QUERY__NULL_TEST_TYPE__IS_NULL;
        simple_predicate(n->null_test->arg, sc, is_null ? PredicateKind::IsNull : PredicateKind::IsNotNull,
                         is_null ? "IS NULL" : "IS NOT NULL", under_or);
        return;
      }
      case PG_QUERY__NODE__NODE_BOOLEAN_TEST: {
        auto t = n->boolean_test->booltesttype;
        PredicateKind k = t == PG_QUERY__BOOL_TEST_TYPE__IS_TRUE    ? PredicateKind::BoolTrue
                          : t == PG_QUERY__BOOL_TEST_TYPE__IS_FALSE ? PredicateKind::BoolFalse
                                                                    : PredicateKind::Other;
        simple_predicate(n->boolean_test->arg, sc, k,
                         k == PredicateKind::BoolTrue ? "IS TRUE" : k == PredicateKind::BoolFalse ? "IS FALSE" : "IS",
                         under_or);
        return;
      }
      case PG_QUERY__NODE__NODE_COLUMN_REF: simple_predicate(n, sc, PredicateKind::BoolTrue, "", under_or); return;
      case PG_QUERY__NODE__NODE_SUB_LINK: sublink(n->sub_link, sc, under_or); return;
      default: expr(n, sc); return;
    }
  }

  void sublink(const PgQuery__SubLink* s, const Scope& sc, bool under_or) {
    if (s->sub_link_type == PG_QUERY__SUB_LINK_TYPE__ANY_SUBLINK && s->testexpr &&
        s->testexpr->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) {
      // x IN (SELECT y FROM t): a semi-join on x = t.y.
      Operand l = operand(s->testexpr, sc);
      const Node* sub = s->subselect;
      Resolved inner = select(sub && sub->node_case == PG_QUERY__NODE__NODE_SELECT_STMT ? sub->select_stmt : nullptr, &sc);
      if (l.is_column) {
        Predicate p;
        p.kind = PredicateKind::In;
        p.op = "IN";
        p.value = ValueKind::Expression;
        p.under_or = under_or;
        add_predicate(l.col, std::move(p));
        if (inner.access >= 0 && !under_or) add_join(l.col, inner);
      }
      return;
    }
    if (s->testexpr) expr(s->testexpr, sc);
    if (s->subselect && s->subselect->node_case == PG_QUERY__NODE__NODE_SELECT_STMT)
      select(s->subselect->select_stmt, &sc);
  }

  // ---- FROM ----

  void from_item(const Node* n, Scope& sc, std::vector<const Node*>& quals) {
    if (!n) return;
    switch (n->node_case) {
      case PG_QUERY__NODE__NODE_RANGE_VAR: {
        const auto* rv = n->range_var;
        std::string rel = relation_name(rv);
        if ((!rv->schemaname || !*rv->schemaname) && sc.has_cte(rel)) {
          sc.entries.push_back({rv->alias ? lower(str_or_empty(rv->alias->aliasname)) : rel, "", -1});
        } else {
          new_access(rv, sc);
        }
        return;
      }
      case PG_QUERY__NODE__NODE_JOIN_EXPR: {
        const auto* j = n->join_expr;
        size_t left_begin = sc.entries.size();
        from_item(j->larg, sc, quals);
        size_t right_begin = sc.entries.size();
        from_item(j->rarg, sc, quals);
        size_t right_end = sc.entries.size();
        if (j->quals) quals.push_back(j->quals);
        for (size_t i = 0; i < j->n_using_clause; ++i) {
          std::string col = lower(string_value(j->using_clause[i]));
          int l = side_owner(sc, left_begin, right_begin, col), r = side_owner(sc, right_begin, right_end, col);
          if (l >= 0) columns_[size_t(l)].insert(col);
          if (r >= 0) columns_[size_t(r)].insert(col);
          add_join({true, l, col}, {true, r, col});
        }
        if (j->alias) sc.entries.push_back({lower(str_or_empty(j->alias->aliasname)), "", -1});
        return;
      }
      case PG_QUERY__NODE__NODE_RANGE_SUBSELECT: {
        const auto* rs = n->range_subselect;
        // Only LATERAL subqueries see the FROM items before them.
        Scope outer_only{sc.parent, {}, {}};
        const Scope* parent = rs->lateral ? &sc : &outer_only;
        if (rs->subquery && rs->subquery->node_case == PG_QUERY__NODE__NODE_SELECT_STMT)
          select(rs->subquery->select_stmt, parent);
        sc.entries.push_back({rs->alias ? lower(str_or_empty(rs->alias->aliasname)) : "", "", -1});
        return;
      }
      case PG_QUERY__NODE__NODE_RANGE_FUNCTION: {
        const auto* rf = n->range_function;
        for (size_t i = 0; i < rf->n_functions; ++i) expr(rf->functions[i], sc);
        sc.entries.push_back({rf->alias ? lower(str_or_empty(rf->alias->aliasname)) : "", "", -1});
        return;
      }
      default: expr(n, sc); return;
    }
  }

  int side_owner(const Scope& sc, size_t begin, size_t end, const std::string& col) const {
    int found = -1, count = 0;
    for (size_t i = begin; i < end; ++i) {
      const Entry& e = sc.entries[i];
      if (e.access < 0) continue;
      if (end - begin == 1 || (owner_ && owner_(e.relation, col))) {
        found = e.access;
        ++count;
      }
    }
    return count == 1 ? found : -1;
  }

  // ---- statements ----

  void with_clause(const PgQuery__WithClause* w, Scope& cte_scope) {
    if (!w) return;
    for (size_t i = 0; i < w->n_ctes; ++i) {
      const Node* c = w->ctes[i];
      if (c->node_case == PG_QUERY__NODE__NODE_COMMON_TABLE_EXPR)
        cte_scope.ctes.push_back(lower(str_or_empty(c->common_table_expr->ctename)));
    }
    for (size_t i = 0; i < w->n_ctes; ++i) {
      const Node* c = w->ctes[i];
      if (c->node_case == PG_QUERY__NODE__NODE_COMMON_TABLE_EXPR) statement(c->common_table_expr->ctequery, &cte_scope);
    }
  }

  // Returns the single output column when the select lists exactly one plain base-table column
  // (used for IN (SELECT ...) semi-joins).
  Resolved select(const PgQuery__SelectStmt* s, const Scope* parent) {
    if (!s) return {};
    Scope cte_scope{parent, {}, {}};
    with_clause(s->with_clause, cte_scope);
    if (s->op != PG_QUERY__SET_OPERATION__SETOP_NONE && s->op != PG_QUERY__SET_OPERATION__SET_OPERATION_UNDEFINED) {
      select(s->larg, &cte_scope);
      select(s->rarg, &cte_scope);
      return {};
    }
    Scope sc{&cte_scope, {}, {}};
    for (size_t i = 0; i < s->n_values_lists; ++i) expr(s->values_lists[i], sc);
    std::vector<const Node*> quals;
    for (size_t i = 0; i < s->n_from_clause; ++i) from_item(s->from_clause[i], sc, quals);
    for (const Node* q : quals) condition(q, sc, false);
    condition(s->where_clause, sc, false);

    Resolved single;
    std::map<std::string, const Node*> target_alias;
    for (size_t i = 0; i < s->n_target_list; ++i) {
      const Node* t = s->target_list[i];
      if (t->node_case != PG_QUERY__NODE__NODE_RES_TARGET) continue;
      const auto* rt = t->res_target;
      if (rt->name && *rt->name) target_alias[lower(rt->name)] = rt->val;
      if (s->n_target_list == 1 && rt->val && rt->val->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) {
        Operand o = operand(rt->val, sc);
        if (o.is_column) single = o.col;
      } else {
        expr(rt->val, sc);
      }
    }
    for (size_t i = 0; i < s->n_group_clause; ++i) {
      const Node* g = target_ref(s->group_clause[i], s, target_alias);
      if (g && g->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) {
        Operand o = operand(g, sc);
        if (o.is_column && o.col.access >= 0) out_.reads[size_t(o.col.access)].group_by.push_back(o.col.column);
      } else {
        expr(g, sc);
      }
    }
    expr(s->having_clause, sc);
    for (size_t i = 0; i < s->n_window_clause; ++i) expr(s->window_clause[i], sc);
    for (size_t i = 0; i < s->n_distinct_clause; ++i) expr(s->distinct_clause[i], sc);
    order_and_limit(s, sc, target_alias);
    return single;
  }

  // ORDER BY/GROUP BY may name an output column or its position.
  const Node* target_ref(const Node* n, const PgQuery__SelectStmt* s,
                         const std::map<std::string, const Node*>& target_alias) const {
    if (!n) return n;
    if (n->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && n->column_ref->n_fields == 1) {
      auto it = target_alias.find(lower(string_value(n->column_ref->fields[0])));
      if (it != target_alias.end() && it->second) return it->second;
    }
    if (n->node_case == PG_QUERY__NODE__NODE_A_CONST && n->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
      int pos = n->a_const->ival ? n->a_const->ival->ival : 0;
      if (pos >= 1 && size_t(pos) <= s->n_target_list &&
          s->target_list[pos - 1]->node_case == PG_QUERY__NODE__NODE_RES_TARGET)
        return s->target_list[pos - 1]->res_target->val;
    }
    return n;
  }

  void order_and_limit(const PgQuery__SelectStmt* s, Scope& sc, const std::map<std::string, const Node*>& alias) {
    std::vector<SortKey> keys;
    int owner = -2;  // -2: no key yet; -1: keys on different tables or expressions
    for (size_t i = 0; i < s->n_sort_clause; ++i) {
      const Node* n = s->sort_clause[i];
      if (n->node_case != PG_QUERY__NODE__NODE_SORT_BY) continue;
      const auto* sb = n->sort_by;
      const Node* key = target_ref(sb->node, s, alias);
      if (key && key->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) {
        Operand o = operand(key, sc);
        if (o.is_column && o.col.access >= 0 && (owner == -2 || owner == o.col.access)) {
          owner = o.col.access;
          SortKey k;
          k.column = o.col.column;
          k.descending = sb->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC;
          k.nulls_first = sb->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST ||
                          (k.descending && sb->sortby_nulls != PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST);
          keys.push_back(k);
          continue;
        }
        owner = -1;
      } else {
        expr(key, sc);
        owner = -1;
      }
    }
    int limit_target = -1;
    if (owner >= 0) {
      out_.reads[size_t(owner)].order_by = keys;
      limit_target = owner;
    } else if (owner == -2 && sc.entries.size() == 1) {
      limit_target = sc.entries[0].access;
    }
    const Node* lc = s->limit_count;
    bool has_limit = lc && !(lc->node_case == PG_QUERY__NODE__NODE_A_CONST && lc->a_const->isnull);
    if (has_limit && limit_target >= 0) {
      auto& a = out_.reads[size_t(limit_target)];
      a.has_limit = true;
      if (lc->node_case == PG_QUERY__NODE__NODE_A_CONST && lc->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL)
        a.limit = lc->a_const->ival ? lc->a_const->ival->ival : 0;
    }
  }

  void insert(const PgQuery__InsertStmt* s, const Scope* parent) {
    Scope cte_scope{parent, {}, {}};
    with_clause(s->with_clause, cte_scope);
    TableWrite w;
    w.relation = relation_name(s->relation);
    w.kind = WriteKind::Insert;
    const Node* src = s->select_stmt;
    if (src && src->node_case == PG_QUERY__NODE__NODE_SELECT_STMT && src->select_stmt->n_values_lists) {
      w.rows = int64_t(src->select_stmt->n_values_lists);
      Scope sc{&cte_scope, {}, {}};
      for (size_t i = 0; i < src->select_stmt->n_values_lists; ++i) expr(src->select_stmt->values_lists[i], sc);
    } else if (src) {
      w.rows = 0;
      statement(src, &cte_scope);
    }
    out_.writes.push_back(std::move(w));
  }

  void dml_target(const PgQuery__RangeVar* rel, Scope& sc) {
    int idx = new_access(rel, sc);
    out_.reads[size_t(idx)].write_target = true;
  }

  void update(const PgQuery__UpdateStmt* s, const Scope* parent) {
    Scope cte_scope{parent, {}, {}};
    with_clause(s->with_clause, cte_scope);
    Scope sc{&cte_scope, {}, {}};
    dml_target(s->relation, sc);
    std::vector<const Node*> quals;
    for (size_t i = 0; i < s->n_from_clause; ++i) from_item(s->from_clause[i], sc, quals);
    for (const Node* q : quals) condition(q, sc, false);
    condition(s->where_clause, sc, false);
    TableWrite w;
    w.relation = relation_name(s->relation);
    w.kind = WriteKind::Update;
    w.rows = 0;
    std::set<std::string> set_cols;
    for (size_t i = 0; i < s->n_target_list; ++i) {
      const Node* t = s->target_list[i];
      if (t->node_case != PG_QUERY__NODE__NODE_RES_TARGET) continue;
      if (t->res_target->name) set_cols.insert(lower(t->res_target->name));
      expr(t->res_target->val, sc);
    }
    w.set_columns.assign(set_cols.begin(), set_cols.end());
    for (size_t i = 0; i < s->n_returning_list; ++i) expr(s->returning_list[i], sc);
    out_.writes.push_back(std::move(w));
  }

  void remove(const PgQuery__DeleteStmt* s, const Scope* parent) {
    Scope cte_scope{parent, {}, {}};
    with_clause(s->with_clause, cte_scope);
    Scope sc{&cte_scope, {}, {}};
    dml_target(s->relation, sc);
    std::vector<const Node*> quals;
    for (size_t i = 0; i < s->n_using_clause; ++i) from_item(s->using_clause[i], sc, quals);
    for (const Node* q : quals) condition(q, sc, false);
    condition(s->where_clause, sc, false);
    for (size_t i = 0; i < s->n_returning_list; ++i) expr(s->returning_list[i], sc);
    out_.writes.push_back({relation_name(s->relation), WriteKind::Delete, {}, 0});
  }

  void copy(const PgQuery__CopyStmt* s, const Scope* parent) {
    if (s->query) {
      statement(s->query, parent);
      return;
    }
    if (!s->relation) return;
    if (s->is_from) {
      out_.writes.push_back({relation_name(s->relation), WriteKind::Copy, {}, 0});
      return;
    }
    Scope sc{parent, {}, {}};
    int idx = new_access(s->relation, sc);
    if (s->n_attlist == 0) out_.reads[size_t(idx)].all_columns = true;
    for (size_t i = 0; i < s->n_attlist; ++i) columns_[size_t(idx)].insert(lower(string_value(s->attlist[i])));
  }
};

}  // namespace

Extraction extract(std::string_view sql, const ColumnOwner& owner) {
  Extraction out;
  detail::ParseTree tree(sql);
  if (!tree.ok()) {
    out.error = tree.error();
    return out;
  }
  out.ok = true;
  Extractor x(out, owner);
  for (size_t i = 0; i < tree.statement_count(); ++i) x.statement(tree.statement(i)->stmt, nullptr);
  x.finish();
  if (out.command.empty()) out.command = "UTILITY";
  return out;
}

}  // namespace pgopt::sql
