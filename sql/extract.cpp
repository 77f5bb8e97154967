// Walks a libpg_query tree and reports, per base table, the predicates, joins, ordering and columns a
// statement uses, plus the writes it makes (see extract.hpp): statements, FROM items and names here,
// conditions and expressions in extract_predicates.cpp.
#include "sql/extract.hpp"

#include <map>
#include <set>

#include "sql/extractor.hpp"
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

namespace detail {
namespace {

std::string last_part(const std::string& relation) {
  auto dot = relation.rfind('.');
  return dot == std::string::npos ? relation : relation.substr(dot + 1);
}

}  // namespace

void Extractor::statement(const Node* n, const Scope* parent) {
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

void Extractor::finish() {
  for (size_t i = 0; i < out_.reads.size(); ++i) {
    auto& cols = columns_[i];
    out_.reads[i].columns.assign(cols.begin(), cols.end());
  }
  std::set<std::string> unique(out_.unresolved.begin(), out_.unresolved.end());
  out_.unresolved.assign(unique.begin(), unique.end());
}

int Extractor::new_access(const PgQuery__RangeVar* rv, Scope& sc) {
  TableAccess a;
  a.relation = relation_name(rv);
  a.alias = rv->alias ? str_or_empty(rv->alias->aliasname) : "";
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

const Entry* Extractor::find_entry(const std::string& qualifier, const Scope& sc, const Scope** where) const {
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

Resolved Extractor::resolve_unqualified(const std::string& col, const Scope& sc) {
  for (const Scope* s = &sc; s; s = s->parent) {
    if (s->entries.empty()) continue;
    if (s->entries.size() == 1) return through(s->entries[0], col);
    if (!owner_) {
      out_.unresolved.push_back(col);
      return {false, -1, col};
    }
    int match = -1, matches = 0;
    std::string match_col = col;
    bool non_base = false;
    for (const auto& e : s->entries) {
      if (e.access < 0) {
        Resolved r = through(e, col);
        if (r.access >= 0 && e.outputs.columns.count(col)) {
          if (match != r.access) ++matches;
          match = r.access;
          match_col = r.column;
          continue;  // found by name in a pulled-up subquery's output list
        }
        non_base = true;
        continue;
      }
      if (owner_(e.relation, col)) {
        if (match != e.access) ++matches;
        match = e.access;
      }
    }
    if (matches == 1) return {true, match, match_col};
    if (matches > 1) {
      out_.unresolved.push_back(col);
      return {false, -1, col};
    }
    if (non_base) return {true, -1, col};  // most likely a subquery's or CTE's output column
  }
  out_.unresolved.push_back(col);
  return {false, -1, col};
}

Resolved Extractor::resolve(const PgQuery__ColumnRef* ref, const Scope& sc) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < ref->n_fields; ++i) {
    if (ref->fields[i]->node_case == PG_QUERY__NODE__NODE_A_STAR) return {};
    parts.push_back(string_value(ref->fields[i]));
  }
  if (parts.empty()) return {};
  std::string col = parts.back();
  if (parts.size() == 1) return resolve_unqualified(col, sc);
  std::string qualifier = parts[parts.size() - 2];
  if (parts.size() >= 3) qualifier = parts[parts.size() - 3] + "." + qualifier;
  const Entry* e = find_entry(qualifier, sc, nullptr);
  if (!e && parts.size() >= 3) e = find_entry(parts[parts.size() - 2], sc, nullptr);
  if (!e) return {false, -1, col};  // e.g. a composite-type field or a typo the server rejects
  return through(*e, col);
}

void Extractor::star(const PgQuery__ColumnRef* ref, const Scope& sc) {
  if (ref->n_fields == 1) {
    for (const auto& e : sc.entries)
      if (e.access >= 0) out_.reads[size_t(e.access)].all_columns = true;
    return;
  }
  std::string qualifier = string_value(ref->fields[ref->n_fields - 2]);
  if (const Entry* e = find_entry(qualifier, sc, nullptr); e && e->access >= 0)
    out_.reads[size_t(e->access)].all_columns = true;
}

void Extractor::from_item(const Node* n, Scope& sc, std::vector<const Node*>& quals) {
  if (!n) return;
  switch (n->node_case) {
    case PG_QUERY__NODE__NODE_RANGE_VAR: {
      const auto* rv = n->range_var;
      std::string rel = relation_name(rv);
      if ((!rv->schemaname || !*rv->schemaname) && sc.has_cte(rel)) {
        sc.entries.push_back({rv->alias ? str_or_empty(rv->alias->aliasname) : rel, "", -1, sc.cte(rel)});
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
        std::string col = string_value(j->using_clause[i]);
        int l = side_owner(sc, left_begin, right_begin, col), r = side_owner(sc, right_begin, right_end, col);
        if (l >= 0) columns_[size_t(l)].insert(col);
        if (r >= 0) columns_[size_t(r)].insert(col);
        add_join({true, l, col}, {true, r, col});
      }
      if (j->alias) sc.entries.push_back({str_or_empty(j->alias->aliasname), "", -1, {}});
      return;
    }
    case PG_QUERY__NODE__NODE_RANGE_SUBSELECT: {
      const auto* rs = n->range_subselect;
      // Only LATERAL subqueries see the FROM items before them.
      Scope outer_only{sc.parent, {}, {}, {}};
      const Scope* parent = rs->lateral ? &sc : &outer_only;
      Outputs outputs;
      if (rs->subquery && rs->subquery->node_case == PG_QUERY__NODE__NODE_SELECT_STMT)
        select(rs->subquery->select_stmt, parent, &outputs);
      // Renamed columns (AS v(a, b)) are not followed.
      if (rs->alias && rs->alias->n_colnames) outputs = {};
      sc.entries.push_back({rs->alias ? str_or_empty(rs->alias->aliasname) : "", "", -1, std::move(outputs)});
      return;
    }
    case PG_QUERY__NODE__NODE_RANGE_FUNCTION: {
      const auto* rf = n->range_function;
      for (size_t i = 0; i < rf->n_functions; ++i) expr(rf->functions[i], sc);
      sc.entries.push_back({rf->alias ? str_or_empty(rf->alias->aliasname) : "", "", -1, {}});
      return;
    }
    default: expr(n, sc); return;
  }
}

int Extractor::side_owner(const Scope& sc, size_t begin, size_t end, const std::string& col) const {
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

void Extractor::with_clause(const PgQuery__WithClause* w, Scope& cte_scope) {
  if (!w) return;
  for (size_t i = 0; i < w->n_ctes; ++i) {
    const Node* c = w->ctes[i];
    if (c->node_case == PG_QUERY__NODE__NODE_COMMON_TABLE_EXPR)
      cte_scope.ctes.push_back(str_or_empty(c->common_table_expr->ctename));
  }
  for (size_t i = 0; i < w->n_ctes; ++i) {
    const Node* c = w->ctes[i];
    if (c->node_case != PG_QUERY__NODE__NODE_COMMON_TABLE_EXPR) continue;
    const auto* cte = c->common_table_expr;
    const Node* q = cte->ctequery;
    // PostgreSQL 12+ inlines a non-recursive SELECT CTE unless it is MATERIALIZED (or referenced
    // twice, which the extractor does not count: the what-if costs judge that case).
    if (q && q->node_case == PG_QUERY__NODE__NODE_SELECT_STMT && !w->recursive && !cte->n_aliascolnames &&
        cte->ctematerialized != PG_QUERY__CTEMATERIALIZE__CTEMaterializeAlways) {
      Outputs outputs;
      select(q->select_stmt, &cte_scope, &outputs);
      cte_scope.cte_outputs[str_or_empty(cte->ctename)] = std::move(outputs);
    } else {
      statement(q, &cte_scope);
    }
  }
}

Resolved Extractor::select(const PgQuery__SelectStmt* s, const Scope* parent, Outputs* outputs) {
  if (!s) return {};
  Scope cte_scope{parent, {}, {}, {}};
  with_clause(s->with_clause, cte_scope);
  if (s->op != PG_QUERY__SET_OPERATION__SETOP_NONE && s->op != PG_QUERY__SET_OPERATION__SET_OPERATION_UNDEFINED) {
    if (outputs && !s->limit_count && !s->limit_offset && !s->n_locking_clause) {
      set_operation_outputs(s, cte_scope, *outputs);
    } else {
      select(s->larg, &cte_scope);
      select(s->rarg, &cte_scope);
    }
    return {};
  }
  Scope sc{&cte_scope, {}, {}, {}};
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
    if (rt->name && *rt->name) target_alias[std::string(rt->name)] = rt->val;
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
  if (outputs) pulled_up_outputs(s, sc, *outputs);
  return single;
}

namespace {

// A window function in a SELECT list (`row_number() OVER (...)`, which needs no WINDOW clause).
bool has_window_function(const PgQuery__SelectStmt* s) {
  bool found = false;
  auto f = [&](const Node* x) -> bool {
    if (x->node_case == PG_QUERY__NODE__NODE_FUNC_CALL && x->func_call->over) found = true;
    return !found && x->node_case != PG_QUERY__NODE__NODE_SUB_LINK;
  };
  for (size_t i = 0; i < s->n_target_list && !found; ++i) walk_node(s->target_list[i], f);
  return found;
}

}  // namespace

void Extractor::pulled_up_outputs(const PgQuery__SelectStmt* s, const Scope& sc, Outputs& outputs) {
  if (s->n_window_clause || s->limit_count || s->limit_offset || s->n_values_lists || s->n_locking_clause ||
      has_window_function(s))
    return;
  // Grouped or DISTINCT: a condition goes down only on a grouping / DISTINCT [ON] column.
  std::map<std::string, const Node*> alias;
  for (size_t i = 0; i < s->n_target_list; ++i) {
    const Node* t = s->target_list[i];
    if (t->node_case == PG_QUERY__NODE__NODE_RES_TARGET && t->res_target->name && *t->res_target->name)
      alias[t->res_target->name] = t->res_target->val;
  }
  bool plain_distinct = s->n_distinct_clause == 1 && (!s->distinct_clause[0] ||
                                                      s->distinct_clause[0]->node_case == PG_QUERY__NODE__NODE__NOT_SET);
  bool keyed = s->n_group_clause || (s->n_distinct_clause && !plain_distinct);
  std::set<std::pair<int, std::string>> keys;
  const Node* const* key_items = s->n_group_clause ? s->group_clause : s->distinct_clause;
  size_t key_count = s->n_group_clause ? s->n_group_clause : plain_distinct ? 0 : s->n_distinct_clause;
  if (s->n_group_clause && s->n_distinct_clause && !plain_distinct) return;  // both: not followed
  for (size_t i = 0; i < key_count; ++i) {
    const Node* g = target_ref(key_items[i], s, alias);
    if (g && g->node_case == PG_QUERY__NODE__NODE_GROUPING_SET) return;
    if (g && g->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) {
      Resolved r = resolve(g->column_ref, sc);
      if (r.access >= 0) keys.insert({r.access, r.column});
    }
  }
  bool positional = true;
  for (size_t i = 0; i < s->n_target_list; ++i) {
    const Node* t = s->target_list[i];
    if (positional) outputs.positions.emplace_back();
    if (t->node_case != PG_QUERY__NODE__NODE_RES_TARGET || !t->res_target->val) continue;
    const auto* rt = t->res_target;
    if (rt->val->node_case != PG_QUERY__NODE__NODE_COLUMN_REF) continue;
    const auto* ref = rt->val->column_ref;
    if (ref->n_fields && ref->fields[ref->n_fields - 1]->node_case == PG_QUERY__NODE__NODE_A_STAR) {
      if (ref->n_fields == 1 && sc.entries.size() == 1 && sc.entries[0].access >= 0 && !keyed)
        outputs.star_access = sc.entries[0].access;
      positional = false;  // how many columns the star stands for is the catalog's to say
      outputs.positions.clear();
      continue;
    }
    Resolved r = resolve(ref, sc);
    if (!r.found || r.access < 0 || (keyed && !keys.count({r.access, r.column}))) continue;
    std::string name = rt->name && *rt->name ? std::string(rt->name) : r.column;
    outputs.columns[name] = r;
    if (positional) outputs.positions.back() = name;
  }
}

void Extractor::set_operation_outputs(const PgQuery__SelectStmt* s, const Scope& sc, Outputs& outputs) {
  Outputs left, right;
  select(s->larg, &sc, &left);
  select(s->rarg, &sc, &right);
  auto arms = [](const Resolved& r) {
    std::vector<std::pair<int, std::string>> v{{r.access, r.column}};
    v.insert(v.end(), r.more.begin(), r.more.end());
    return v;
  };
  if (left.star_access >= 0 && right.star_access >= 0) {  // SELECT * in every arm: names match
    outputs.star_access = left.star_access;
    outputs.star_more = left.star_more;
    outputs.star_more.push_back(right.star_access);
    outputs.star_more.insert(outputs.star_more.end(), right.star_more.begin(), right.star_more.end());
    return;
  }
  for (size_t i = 0; i < left.positions.size(); ++i) {
    const std::string& name = left.positions[i];
    outputs.positions.push_back(name);
    if (name.empty()) continue;
    Resolved r = left.columns[name];
    if (i < right.positions.size() && !right.positions[i].empty())
      for (const auto& arm : arms(right.columns[right.positions[i]])) r.more.push_back(arm);
    outputs.columns[name] = std::move(r);
  }
}

Resolved Extractor::through(const Entry& e, const std::string& col) {
  if (e.access >= 0) return {true, e.access, col};
  auto it = e.outputs.columns.find(col);
  if (it != e.outputs.columns.end()) return it->second;
  if (e.outputs.star_access >= 0) {
    Resolved r{true, e.outputs.star_access, col};
    for (int access : e.outputs.star_more) r.more.emplace_back(access, col);
    return r;
  }
  return {true, -1, col};
}

const Node* Extractor::target_ref(const Node* n, const PgQuery__SelectStmt* s,
                                  const std::map<std::string, const Node*>& target_alias) const {
  if (!n) return n;
  if (n->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && n->column_ref->n_fields == 1) {
    auto it = target_alias.find(string_value(n->column_ref->fields[0]));
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

void Extractor::order_and_limit(const PgQuery__SelectStmt* s, Scope& sc, const std::map<std::string, const Node*>& alias) {
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

void Extractor::insert(const PgQuery__InsertStmt* s, const Scope* parent) {
  Scope cte_scope{parent, {}, {}, {}};
  with_clause(s->with_clause, cte_scope);
  TableWrite w;
  w.relation = relation_name(s->relation);
  w.kind = WriteKind::Insert;
  const Node* src = s->select_stmt;
  if (src && src->node_case == PG_QUERY__NODE__NODE_SELECT_STMT && src->select_stmt->n_values_lists) {
    w.rows = int64_t(src->select_stmt->n_values_lists);
    Scope sc{&cte_scope, {}, {}, {}};
    for (size_t i = 0; i < src->select_stmt->n_values_lists; ++i) expr(src->select_stmt->values_lists[i], sc);
  } else if (src) {
    w.rows = 0;
    statement(src, &cte_scope);
  }
  out_.writes.push_back(std::move(w));
}

void Extractor::dml_target(const PgQuery__RangeVar* rel, Scope& sc) {
  int idx = new_access(rel, sc);
  out_.reads[size_t(idx)].write_target = true;
}

void Extractor::update(const PgQuery__UpdateStmt* s, const Scope* parent) {
  Scope cte_scope{parent, {}, {}, {}};
  with_clause(s->with_clause, cte_scope);
  Scope sc{&cte_scope, {}, {}, {}};
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
    if (t->res_target->name) set_cols.insert(std::string(t->res_target->name));
    expr(t->res_target->val, sc);
  }
  w.set_columns.assign(set_cols.begin(), set_cols.end());
  for (size_t i = 0; i < s->n_returning_list; ++i) expr(s->returning_list[i], sc);
  out_.writes.push_back(std::move(w));
}

void Extractor::remove(const PgQuery__DeleteStmt* s, const Scope* parent) {
  Scope cte_scope{parent, {}, {}, {}};
  with_clause(s->with_clause, cte_scope);
  Scope sc{&cte_scope, {}, {}, {}};
  dml_target(s->relation, sc);
  std::vector<const Node*> quals;
  for (size_t i = 0; i < s->n_using_clause; ++i) from_item(s->using_clause[i], sc, quals);
  for (const Node* q : quals) condition(q, sc, false);
  condition(s->where_clause, sc, false);
  for (size_t i = 0; i < s->n_returning_list; ++i) expr(s->returning_list[i], sc);
  out_.writes.push_back({relation_name(s->relation), WriteKind::Delete, {}, 0});
}

void Extractor::copy(const PgQuery__CopyStmt* s, const Scope* parent) {
  if (s->query) {
    statement(s->query, parent);
    return;
  }
  if (!s->relation) return;
  if (s->is_from) {
    out_.writes.push_back({relation_name(s->relation), WriteKind::Copy, {}, 0});
    return;
  }
  Scope sc{parent, {}, {}, {}};
  int idx = new_access(s->relation, sc);
  if (s->n_attlist == 0) out_.reads[size_t(idx)].all_columns = true;
  for (size_t i = 0; i < s->n_attlist; ++i) columns_[size_t(idx)].insert(string_value(s->attlist[i]));
}

}  // namespace detail

Extraction extract(std::string_view sql, const ColumnOwner& owner) {
  Extraction out;
  detail::ParseTree tree(sql);
  if (!tree.ok()) {
    out.error = tree.error();
    return out;
  }
  out.ok = true;
  detail::Extractor x(out, owner);
  for (size_t i = 0; i < tree.statement_count(); ++i) x.statement(tree.statement(i)->stmt, nullptr);
  x.finish();
  if (out.command.empty()) out.command = "UTILITY";
  return out;
}

}  // namespace pgopt::sql
