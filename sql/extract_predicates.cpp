// Conditions (WHERE, JOIN ... ON) and expressions of a statement: which column each predicate
// compares, how (its PredicateKind) and with what; join keys; columns read inside expressions.
#include <cctype>
#include <utility>

#include "sql/extractor.hpp"

namespace pgopt::sql::detail {
namespace {

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

// Functions an expression index can use on text columns (IMMUTABLE in pg_catalog), the usual
// case-insensitive lookups. Others (date_trunc on timestamptz, casts to date ...) are often only
// STABLE; the advisor reports those instead of guessing.
bool indexable_function(const std::string& schema, const std::string& name) {
  return (schema.empty() || schema == "pg_catalog") && (name == "lower" || name == "upper");
}

// A column name as pg_get_indexdef prints it inside an expression.
std::string quote_column(const std::string& c) {
  bool plain = !c.empty() && !std::isdigit(static_cast<unsigned char>(c[0]));
  for (char ch : c)
    if (!(std::islower(static_cast<unsigned char>(ch)) || std::isdigit(static_cast<unsigned char>(ch)) || ch == '_'))
      plain = false;
  if (plain) return c;
  std::string out = "\"";
  for (char ch : c) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

}  // namespace

// Records every column an expression reads and analyses the subqueries inside it.
void Extractor::expr(const Node* n, const Scope& sc) {
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

bool Extractor::has_column_ref(const Node* n) {
  bool found = false;
  auto f = [&](const Node* x) -> bool {
    if (x->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) found = true;
    return !found && x->node_case != PG_QUERY__NODE__NODE_SUB_LINK;
  };
  walk_node(n, f);
  return found;
}

Operand Extractor::operand(const Node* n, const Scope& sc) {
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
  if (indexable_expression(n, sc, o)) return o;
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
  o.node = n;
  if (o.has_columns) o.single_column = single_column_of(n, sc);
  expr(n, sc);
  return o;
}

// lower(col) / upper(col) on one base-table column: an operand an expression index can serve.
bool Extractor::indexable_expression(const Node* n, const Scope& sc, Operand& o) {
  if (n->node_case != PG_QUERY__NODE__NODE_FUNC_CALL) return false;
  const auto* f = n->func_call;
  if (f->n_args != 1 || f->agg_star || f->agg_distinct || f->over || f->n_agg_order || f->agg_filter ||
      f->func_variadic || f->n_funcname < 1 || f->n_funcname > 2)
    return false;
  std::string name = lower(string_value(f->funcname[f->n_funcname - 1]));
  std::string schema = f->n_funcname == 2 ? lower(string_value(f->funcname[0])) : "";
  const Node* arg = f->args[0];
  if (!indexable_function(schema, name) || arg->node_case != PG_QUERY__NODE__NODE_COLUMN_REF) return false;
  const auto* ref = arg->column_ref;
  if (!ref->n_fields || ref->fields[ref->n_fields - 1]->node_case == PG_QUERY__NODE__NODE_A_STAR) return false;
  Resolved base = resolve(ref, sc);
  note_read(base);
  if (base.access < 0 || base.column.empty()) return false;
  o.is_column = true;
  o.base_column = base.column;
  o.col = base;
  o.col.column = "(" + name + "(" + quote_column(base.column) + "))";
  // Other arms of a set operation keep the key when their column has the same name (the
  // predicate carries one base column).
  for (auto& [access, column] : o.col.more) column = column == base.column ? o.col.column : std::string();
  return true;
}

// The one base-table column an expression reads (no subqueries), or nothing.
Resolved Extractor::single_column_of(const Node* n, const Scope& sc) {
  Resolved only;
  bool ok = true;
  auto f = [&](const Node* x) -> bool {
    if (!ok) return false;
    if (x->node_case == PG_QUERY__NODE__NODE_SUB_LINK || x->node_case == PG_QUERY__NODE__NODE_SELECT_STMT) {
      ok = false;
      return false;
    }
    if (x->node_case != PG_QUERY__NODE__NODE_COLUMN_REF) return true;
    Resolved r = resolve(x->column_ref, sc);
    if (r.access < 0 || r.column.empty() || (only.found && (only.access != r.access || only.column != r.column))) ok = false;
    only = r;
    return false;
  };
  walk_node(n, f);
  return ok && only.found ? only : Resolved{};
}

// `f(col) op constant` where no index on col can help: recorded (kind Other) so the advisor can
// say why the query gets no index instead of silently ignoring the filter.
void Extractor::expression_predicate(const Operand& l, const std::string& op, bool under_or) {
  if (!l.single_column.found || !l.node) return;
  Predicate p;
  p.kind = PredicateKind::Other;
  p.op = op;
  p.value = ValueKind::Expression;
  p.expression = deparse_expr(l.node);
  p.under_or = under_or;
  add_predicate(l.single_column, std::move(p));
}

void Extractor::add_predicate(const Resolved& col, Predicate p) {
  for (const auto& [access, column] : col.more) {  // the other arms of a set operation
    if (access < 0 || column.empty()) continue;
    Predicate q = p;
    q.column = column;
    out_.reads[size_t(access)].predicates.push_back(std::move(q));
  }
  if (col.access < 0 || col.column.empty()) return;
  p.column = col.column;
  out_.reads[size_t(col.access)].predicates.push_back(std::move(p));
}

void Extractor::add_predicate(const Operand& l, Predicate p) {
  if (!l.base_column.empty()) {
    p.base_column = l.base_column;
    p.expression = l.col.column.substr(1, l.col.column.size() - 2);  // "(lower(email))" -> "lower(email)"
  }
  add_predicate(l.col, std::move(p));
}

void Extractor::add_join(const Resolved& a, const Resolved& b) {
  // A set operation's arms each join (PostgreSQL flattens a UNION ALL into an append of them).
  auto arms = [](const Resolved& r) {
    std::vector<std::pair<int, std::string>> v{{r.access, r.column}};
    v.insert(v.end(), r.more.begin(), r.more.end());
    return v;
  };
  for (const auto& [a_access, a_column] : arms(a)) {
    for (const auto& [b_access, b_column] : arms(b)) {
      if (a_access < 0 || b_access < 0) continue;
      auto& ra = out_.reads[size_t(a_access)];
      auto& rb = out_.reads[size_t(b_access)];
      ra.joins.push_back({a_column, rb.relation, b_column});
      rb.joins.push_back({b_column, ra.relation, a_column});
    }
  }
}

void Extractor::values_of(const Node* n, const Scope& sc, Predicate& p) {
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

// `a op b` (and IS NOT DISTINCT FROM): a join between two columns, or a predicate on a column
// with the column turned to the left.
void Extractor::comparison(const PgQuery__AExpr* a, std::string op, const Scope& sc, bool under_or) {
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
  if (!l.is_column && !r.is_column && !l.has_columns && r.has_columns) {
    std::swap(l, r);
    op = mirror(op);
  }
  if (!l.is_column && !r.has_columns && a->lexpr && a->rexpr) expression_predicate(l, op, under_or);
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
  add_predicate(l, std::move(p));
}

// LIKE / ILIKE (and their NOT forms): a prefix pattern a B-tree can serve, or an infix one.
void Extractor::like_predicate(const PgQuery__AExpr* a, const std::string& op, const Scope& sc, bool under_or) {
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
  add_predicate(l, std::move(p));
}

void Extractor::a_expr(const PgQuery__AExpr* a, const Scope& sc, bool under_or) {
  std::string op = a->n_name ? string_value(a->name[a->n_name - 1]) : "";
  switch (a->kind) {
    case PG_QUERY__A__EXPR__KIND__AEXPR_OP:
    case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_DISTINCT: {
      comparison(a, std::move(op), sc, under_or);
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
      add_predicate(l, std::move(p));
      return;
    }
    case PG_QUERY__A__EXPR__KIND__AEXPR_LIKE:
    case PG_QUERY__A__EXPR__KIND__AEXPR_ILIKE: {
      like_predicate(a, op, sc, under_or);
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
      add_predicate(l, std::move(p));
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
        add_predicate(l, std::move(p));
      }
      return;
    }
  }
}

void Extractor::simple_predicate(const Node* arg, const Scope& sc, PredicateKind kind, const char* op, bool under_or) {
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

void Extractor::condition(const Node* n, const Scope& sc, bool under_or) {
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

void Extractor::sublink(const PgQuery__SubLink* s, const Scope& sc, bool under_or) {
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
      add_predicate(l, std::move(p));
      if (inner.access >= 0 && !under_or) add_join(l.col, inner);
    }
    return;
  }
  if (s->testexpr) expr(s->testexpr, sc);
  if (s->subselect && s->subselect->node_case == PG_QUERY__NODE__NODE_SELECT_STMT)
    select(s->subselect->select_stmt, &sc);
}

}  // namespace pgopt::sql::detail
