// Index definitions (names, DDL, size) and the per-group query model built from the workload.
#include "analyzer/advisor/model.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "sql/relation_rewrite.hpp"
#include "sql/session_effects.hpp"

namespace pgopt::analyzer::advisor {
namespace {

bool plain_identifier(const std::string& s) {
  static const std::set<std::string> reserved = {
      "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "both", "case", "cast", "check",
      "collate", "column", "constraint", "create", "current_date", "current_role", "current_time",
      "current_timestamp", "current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end",
      "except", "false", "fetch", "for", "foreign", "from", "grant", "group", "having", "in", "initially",
      "intersect", "into", "lateral", "leading", "limit", "localtime", "localtimestamp", "not", "null", "offset",
      "on", "only", "or", "order", "placing", "primary", "references", "returning", "select", "session_user",
      "some", "symmetric", "table", "then", "to", "trailing", "true", "union", "unique", "user", "using",
      "variadic", "when", "where", "window", "with"};
  if (s.empty() || !(std::islower(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_'))
      return false;
  return !reserved.count(s);
}

}  // namespace

std::string quote_ident(const std::string& s) {
  if (!s.empty() && s.front() == '(') return s;  // an expression key
  if (plain_identifier(s)) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

namespace {

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '"'; }

}  // namespace

bool key_uses(const std::string& raw, const std::string& column) {
  if (raw == column) return true;
  if (raw.empty() || raw.front() != '(' || column.empty()) return false;
  // A string constant inside the expression ('day' in date_trunc('day', at)) names no column.
  std::string key = raw;
  for (size_t q = key.find('\''); q != std::string::npos; q = key.find('\'', q + 1)) {
    size_t end = key.find('\'', q + 1);
    if (end == std::string::npos) break;
    key.replace(q + 1, end - q - 1, end - q - 1, ' ');
    q = end;
  }
  for (size_t pos = key.find(column); pos != std::string::npos; pos = key.find(column, pos + 1)) {
    bool before = pos > 0 && ident_char(key[pos - 1]) && key[pos - 1] != '"';
    size_t end = pos + column.size();
    bool after = end < key.size() && ident_char(key[end]) && key[end] != '"';
    if (!before && !after) return true;
  }
  return false;
}

std::string key_column(const std::string& key) {
  if (key.empty() || key.front() != '(') return key;
  // "(f(col))", "(f(\"Col\"))", "(date_trunc('day', at))", "(doc ->> 'k')", "(at::date)": the first
  // name that is neither a function (followed by "(") nor a type (after "::"), outside quotes.
  for (size_t i = 0; i < key.size();) {
    char c = key[i];
    if (c == '\'') {
      i = key.find('\'', i + 1);
      if (i == std::string::npos) break;
      ++i;
    } else if (c == '"') {
      size_t end = key.find('"', i + 1);
      if (end == std::string::npos) break;
      return key.substr(i + 1, end - i - 1);
    } else if (std::islower(static_cast<unsigned char>(c)) || c == '_') {
      size_t end = i;
      while (end < key.size() && (std::isalnum(static_cast<unsigned char>(key[end])) || key[end] == '_')) ++end;
      size_t next = key.find_first_not_of(' ', end);
      bool function = next != std::string::npos && key[next] == '(';
      bool type = i >= 2 && key.compare(i - 2, 2, "::") == 0;
      if (!function && !type) return key.substr(i, end - i);
      i = end;
    } else {
      ++i;
    }
  }
  return key;
}

std::string IndexSpec::key() const {
  std::string k = schema + "." + table + ":" + method + "(";
  for (size_t i = 0; i < columns.size(); ++i) {
    k += columns[i];
    if (i < descending.size() && descending[i]) k += " desc";
    if (i < opclass.size() && !opclass[i].empty()) k += " " + opclass[i];
    k += ",";
  }
  k += ")";
  if (!include.empty()) {
    std::vector<std::string> inc = include;
    std::sort(inc.begin(), inc.end());
    k += "+";
    for (const auto& c : inc) k += c + ",";
  }
  if (!where.empty()) k += " where " + where;
  return k;
}

std::string IndexSpec::describe() const {
  std::string s = "(";
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i) s += ", ";
    s += quote_ident(columns[i]);
    if (i < opclass.size() && !opclass[i].empty()) s += " " + opclass[i];
    if (i < descending.size() && descending[i]) s += " DESC";
  }
  s += ")";
  if (!include.empty()) {
    s += " INCLUDE (";
    for (size_t i = 0; i < include.size(); ++i) s += (i ? ", " : "") + quote_ident(include[i]);
    s += ")";
  }
  if (!where.empty()) s += " WHERE " + where;
  return s;
}

namespace {

// Lower-case words of `text` joined by '_' ("(lower(email))" -> "lower_email",
// "status = 'paid'" -> "status_paid", "shipped_at IS NULL" -> "shipped_at_null").
std::string name_words(const std::string& text) {
  std::string out, word;
  auto flush = [&] {
    if (!word.empty() && word != "is") out += (out.empty() ? "" : "_") + word;
    word.clear();
  };
  for (char ch : text) {
    if (std::isalnum(static_cast<unsigned char>(ch)) || ch == '_') {
      word += char(std::tolower(static_cast<unsigned char>(ch)));
    } else {
      flush();
    }
  }
  flush();
  return out;
}

}  // namespace

std::string IndexSpec::suggested_name() const {
  std::string n = table;
  for (const auto& c : columns) n += "_" + name_words(c);
  // Partial indexes differ by their predicate: it goes into the name so two never collide.
  if (!where.empty()) n += "_" + name_words(where);
  n += "_idx";
  if (n.size() > 63) n = n.substr(0, 59) + "_idx";
  return n;
}

std::string IndexSpec::ddl(const std::string& name, bool concurrently, bool only) const {
  std::string s = "CREATE INDEX ";
  if (concurrently) s += "CONCURRENTLY ";
  if (!name.empty()) s += quote_ident(name) + " ";
  s += only ? "ON ONLY " : "ON ";
  s += quote_ident(schema) + "." + quote_ident(table);
  if (method != "btree") s += " USING " + method;
  s += " " + describe();
  return s;
}

namespace {
// Types whose equal values may differ in their bytes (numeric 1.0 vs 1.00, -0.0, jsonb) or that are
// containers: PostgreSQL 13+ never deduplicates B-tree keys of these (no equalimage support).
bool deduplicates(const std::string& type) {
  return !(type.rfind("numeric", 0) == 0 || type == "real" || type == "double precision" || type == "jsonb" ||
           type == "json" || type.find("[]") != std::string::npos || type.find("range") != std::string::npos ||
           type.empty());
}

// The distinct keys of a B-tree PostgreSQL would deduplicate (13+, deduplicate_items on by
// default): 0 when it would not (INCLUDE columns, an expression key, a type without equalimage,
// unknown statistics) or when keys hardly repeat. For several columns, the product of their
// distinct counts, at most the rows.
double dedup_keys(const IndexSpec& index, const TableInfo& table, double rows) {
  if (index.method != "btree" || !index.include.empty() || index.columns.empty()) return 0;
  double keys = 1;
  for (const auto& col : index.columns) {
    const ColumnInfo* c = col.empty() || col.front() == '(' ? nullptr : table.column(col);
    if (!c || !c->has_stats || c->n_distinct == 0 || !deduplicates(c->type)) return 0;
    keys *= c->n_distinct > 0 ? c->n_distinct : -c->n_distinct * rows;
  }
  keys = std::max(1.0, std::min(keys, rows));
  return rows / keys >= 2 ? keys : 0;
}
}  // namespace

double estimate_index_bytes(const IndexSpec& index, const TableInfo& table, double partial_fraction) {
  auto align8 = [](double w) { return std::ceil(w / 8.0) * 8.0; };
  if (index.method == "brin") {
    // A metapage, the range map (one 6-byte entry per range) and one (min, max) tuple per 128 pages.
    double ranges = std::ceil(table.pages() / 128.0), width = 0;
    for (const auto& col : index.columns) {
      const ColumnInfo* c = table.column(key_column(col));
      width += 2 * align8(c ? std::max(1.0, c->avg_width) : 16.0);
    }
    return 8192.0 * (1 + std::ceil(ranges * 6 / 8000) + std::ceil(ranges * (width + 16) / 8000));
  }
  double data = 0;
  auto add = [&](const std::string& col) {
    const ColumnInfo* c = table.column(key_column(col));
    data += c ? std::max(1.0, c->avg_width) : 16.0;
  };
  for (const auto& c : index.columns) add(c);
  for (const auto& c : index.include) add(c);
  // IndexTupleData header (8) + data, MAXALIGNed, + a 4-byte line pointer.
  double entry = align8(8 + data) + 4;
  double rows = table.rows() * std::clamp(partial_fraction, 0.0, 1.0);
  const double leaf_space = (8192 - 24 - 16) * 0.9;  // default fillfactor 90
  double per_leaf = std::floor(leaf_space / entry);
  double leaves = std::max(1.0, std::ceil(rows / std::max(1.0, per_leaf)));
  if (double keys = dedup_keys(index, table, rows)) {
    // Deduplicated: one posting-list tuple per key and up to 1,352 bytes (half of the largest
    // item), each heap row a 6-byte TID in it. CREATE INDEX deduplicates as it builds.
    double tids_per_tuple = std::max(1.0, std::floor((1352 - align8(8 + data)) / 6));
    double tuples = keys * std::ceil(rows / keys / tids_per_tuple);
    leaves = std::min(leaves, std::max(1.0, std::ceil((tuples * entry + rows * 6) / leaf_space)));
  }
  double upper = std::ceil(leaves / std::max(2.0, per_leaf));
  return (1 + leaves + upper) * 8192;  // + the metapage
}

std::string partial_predicate_sql(const PredicateModel& p) {
  std::string col = quote_ident(p.pred.column);
  switch (p.pred.kind) {
    case sql::PredicateKind::IsNull: return col + " IS NULL";
    case sql::PredicateKind::IsNotNull: return col + " IS NOT NULL";
    case sql::PredicateKind::BoolTrue: return col;
    case sql::PredicateKind::BoolFalse: return "NOT " + col;
    case sql::PredicateKind::Equal: return p.constant ? col + " = " + *p.constant : std::string();
    default: return {};
  }
}

bool QueryModel::touches(const std::string& relation) const {
  for (const auto& a : accesses)
    if (a.table->qualified() == relation) return true;
  for (const auto& w : writes)
    if (w.table->qualified() == relation) return true;
  return false;
}

namespace {

bool is_dml(const std::string& command) {
  return command == "SELECT" || command == "INSERT" || command == "UPDATE" || command == "DELETE" || command == "COPY";
}

// System catalogs (psql's \d, drivers' metadata queries) are not the advisor's business.
bool system_relation(const std::string& r) {
  return r.rfind("pg_catalog.", 0) == 0 || r.rfind("information_schema.", 0) == 0 || r.rfind("pg_", 0) == 0;
}

bool same_shape(const sql::Extraction& a, const sql::Extraction& b) {
  if (a.reads.size() != b.reads.size()) return false;
  for (size_t i = 0; i < a.reads.size(); ++i) {
    if (a.reads[i].relation != b.reads[i].relation || a.reads[i].predicates.size() != b.reads[i].predicates.size())
      return false;
    for (size_t k = 0; k < a.reads[i].predicates.size(); ++k)
      if (a.reads[i].predicates[k].column != b.reads[i].predicates[k].column) return false;
  }
  return true;
}

std::string unquote(const std::string& lit) {
  if (lit.size() >= 2 && lit.front() == '\'') {
    auto end = lit.rfind('\'');
    std::string out;
    for (size_t i = 1; i < end; ++i) {
      out += lit[i];
      if (lit[i] == '\'' && i + 1 < end && lit[i + 1] == '\'') ++i;
    }
    return out;
  }
  return lit;
}

// Each view a statement names replaced by its definition, as the planner does, so the extractor sees
// the base tables and the conditions on them (nested views too, to a bound).
std::string inline_views(std::string sql, const Catalog& catalog, const std::vector<std::string>& path) {
  if (catalog.views.empty()) return sql;
  for (int depth = 0; depth < 8; ++depth) {
    sql::Extraction e = sql::extract(sql);
    if (!e.ok) return sql;
    bool changed = false;
    for (const auto& r : e.reads) {
      const ViewInfo* v = catalog.find(r.relation, &path) ? nullptr : catalog.find_view(r.relation, &path);
      if (!v) continue;
      if (auto out = sql::replace_relation(sql, v->schema, v->name, v->definition)) {
        sql = std::move(*out);
        changed = true;
        break;
      }
    }
    if (!changed) return sql;
  }
  return sql;
}

}  // namespace

namespace {

// `f(col) op value` beyond lower()/upper() (date_trunc('day', at), doc ->> 'k', at::date): when every
// sample writes the expression the same way, with constants only, it becomes an expression index key
// "(expr)" compared as `op` says. Whether its functions are IMMUTABLE is for the server to say
// (Evaluator::unusable): PostgreSQL's check covers operators and casts too.
void expression_key(PredicateModel& p, const std::vector<sql::Extraction>& samples, size_t i, size_t k) {
  const sql::Predicate& pred = p.pred;
  if (pred.kind != sql::PredicateKind::Other || pred.expression.empty() || !pred.base_column.empty() || samples.empty())
    return;
  std::string expr = samples.front().reads[i].predicates[k].expression;
  for (const auto& s : samples)
    if (s.reads[i].predicates[k].expression != expr) return;
  if (expr.empty() || expr.find('$') != std::string::npos) return;
  sql::PredicateKind kind;
  if (pred.op == "=") kind = sql::PredicateKind::Equal;
  else if (pred.op == "<" || pred.op == "<=" || pred.op == ">" || pred.op == ">=" || pred.op == "BETWEEN")
    kind = sql::PredicateKind::Range;
  else if (pred.op == "IN") kind = sql::PredicateKind::In;
  else return;
  p.pred.base_column = pred.column;
  p.pred.column = "(" + expr + ")";
  p.pred.expression = expr;
  p.pred.kind = kind;
  if (kind == sql::PredicateKind::Range) p.pred.lower_bound = pred.op == ">" || pred.op == ">=" || pred.op == "BETWEEN";
  if (kind == sql::PredicateKind::Range) p.pred.upper_bound = pred.op == "<" || pred.op == "<=" || pred.op == "BETWEEN";
}

// Predicate k of read i, with what the group's samples say of it: their literals (selectivity,
// BETWEEN bounds), whether a LIKE pattern starts with a wildcard, and an application constant
// (the same literal in every sample) that could become a partial index's WHERE.
PredicateModel model_predicate(const sql::Predicate& pred, const std::vector<sql::Extraction>& samples, size_t i, size_t k) {
  PredicateModel p;
  p.pred = pred;
  bool all_literal = !samples.empty();
  std::optional<sql::PredicateKind> sample_kind;
  bool kinds_agree = true;
  bool all_wild = !samples.empty(), any_wild = false;
  for (const auto& s : samples) {
    const auto& sp = s.reads[i].predicates[k];
    if (sample_kind && *sample_kind != sp.kind) kinds_agree = false;
    sample_kind = sp.kind;
    if (sp.value == sql::ValueKind::Literal && !sp.literals.empty()) {
      p.sample_literals.push_back(sp.literals.front());
      p.sample_values.push_back(sp.literals);
      std::string pat = unquote(sp.literals.front());
      bool wild = pat.empty() || pat[0] == '%' || pat[0] == '_';
      all_wild = all_wild && wild;
      any_wild = any_wild || wild;
    } else {
      all_literal = false;
    }
  }
  if (sample_kind && kinds_agree && p.pred.value == sql::ValueKind::Parameter) p.pred.kind = *sample_kind;
  expression_key(p, samples, i, k);
  if (pred.kind == sql::PredicateKind::Like && !p.sample_literals.empty()) {
    p.leading_wildcard = any_wild;
    p.pred.kind = any_wild ? sql::PredicateKind::LikeInfix : sql::PredicateKind::LikePrefix;
    (void)all_wild;
  }
  switch (p.pred.kind) {
    case sql::PredicateKind::IsNull:
    case sql::PredicateKind::IsNotNull:
    case sql::PredicateKind::BoolTrue:
    case sql::PredicateKind::BoolFalse:
      if (p.pred.value == sql::ValueKind::None || p.pred.value == sql::ValueKind::Literal ||
          (all_literal && samples.size() >= 2))
        p.constant = "";
      break;
    case sql::PredicateKind::Equal:
      if (p.pred.value == sql::ValueKind::Literal && p.pred.literals.size() == 1) {
        p.constant = p.pred.literals.front();
      } else if (all_literal && samples.size() >= 2 &&
                 std::all_of(p.sample_literals.begin(), p.sample_literals.end(),
                             [&](const std::string& l) { return l == p.sample_literals.front(); })) {
        p.constant = p.sample_literals.front();
      }
      break;
    default: break;
  }
  return p;
}

// The model of read `i` of a statement group's shape on table `t`, its predicates with what the
// samples' literals say of them (joined tables are named as the extractor found them).
AccessModel access_model(const sql::TableAccess& r, const TableInfo* t, const std::vector<sql::Extraction>& samples,
                         size_t i) {
  AccessModel a;
  a.table = t;
  a.joins = r.joins;
  a.order_by = r.order_by;
  a.group_by = r.group_by;
  a.has_limit = r.has_limit;
  a.limit = r.limit;
  a.columns = r.columns;
  a.all_columns = r.all_columns;
  a.write_target = r.write_target;
  for (size_t k = 0; k < r.predicates.size(); ++k) a.predicates.push_back(model_predicate(r.predicates[k], samples, i, k));
  return a;
}

}  // namespace

ModelBuild build_models(const Workload& workload, const Catalog& catalog, size_t max_explain_samples) {
  ModelBuild out;
  std::set<std::string> unknown;
  for (const auto& group : workload.groups) {
    const uint64_t fp = group.first;  // not a structured binding: the lambdas below capture it (clang 14)
    const auto& g = group.second;
    // Unqualified names resolve the way the session that ran the statement resolved them.
    // A SET search_path earlier in the logged session overrides the role's.
    const std::string role = g.users.empty() ? "" : g.users.front();
    const std::vector<std::string> path =
        g.search_path.empty() ? catalog.search_path_for(role) : Catalog::search_path_of(g.search_path, role);
    auto find = [&](std::string_view rel) { return catalog.find(rel, &path); };
    // An unlogged or temporary table: left out of the model, named in the report with the reason.
    auto skipped = [&](std::string_view rel) {
      const SkippedTable* s = catalog.find_skipped(rel, &path);
      if (!s) return false;
      out.skipped_tables[s->schema + "." + s->name] = s->reason;
      out.skipped_groups.emplace(fp, s->schema + "." + s->name);
      return true;
    };
    auto owner = [&](std::string_view rel, std::string_view col) {
      const TableInfo* t = find(rel);
      return t && t->column(col);
    };
    sql::Extraction shape = sql::extract(inline_views(g.normalized, catalog, path), owner);
    if (!shape.ok && !g.samples.empty()) shape = sql::extract(inline_views(g.samples.front(), catalog, path), owner);
    if (!shape.ok) {
      ++out.unparsable_groups;
      continue;
    }
    if (!is_dml(shape.command) || own_statement(g.normalized) ||
        (shape.reads.empty() && shape.writes.empty() && sql::session_effects(g.normalized).any())) {
      ++out.utility_groups;
      out.utility.insert(fp);
      continue;
    }
    QueryModel q;
    q.group = &g;
    q.fingerprint = fp;
    q.command = shape.command;
    q.weight = double(std::max<uint64_t>(g.calls, 1));
    if (!g.users.empty() || !g.search_path.empty()) q.search_path = path;

    std::vector<sql::Extraction> samples;
    for (const auto& s : g.samples) {
      sql::Extraction e = sql::extract(inline_views(s, catalog, path), owner);
      if (!e.ok || e.command != shape.command) continue;
      if (q.explain_samples.size() < max_explain_samples && shape.command != "COPY") q.explain_samples.push_back(s);
      if (same_shape(e, shape)) samples.push_back(std::move(e));
    }
    q.explainable = shape.command != "COPY";

    for (size_t i = 0; i < shape.reads.size(); ++i) {
      const auto& r = shape.reads[i];
      const TableInfo* t = find(r.relation);
      if (!t && (system_relation(r.relation) || skipped(r.relation))) continue;
      if (!t) {
        q.unknown_tables.push_back(r.relation);
        unknown.insert(r.relation);
        continue;
      }
      AccessModel a = access_model(r, t, samples, i);
      for (auto& j : a.joins)
        if (const TableInfo* o = find(j.other_relation)) j.other_relation = o->qualified();
      q.accesses.push_back(std::move(a));
    }
    for (const auto& w : shape.writes) {
      const TableInfo* t = find(w.relation);
      if (!t && (system_relation(w.relation) || skipped(w.relation))) continue;
      if (!t) {
        q.unknown_tables.push_back(w.relation);
        unknown.insert(w.relation);
        continue;
      }
      WriteModel wm;
      wm.table = t;
      wm.kind = w.kind;
      wm.set_columns = w.set_columns;
      wm.rows_per_call = w.rows > 0 ? double(w.rows) : 1.0;
      q.writes.push_back(std::move(wm));
    }
    if (q.accesses.empty() && q.writes.empty()) {
      ++out.tableless_groups;
      continue;
    }
    out.queries.push_back(std::move(q));
  }
  out.unknown_tables.assign(unknown.begin(), unknown.end());
  return out;
}

}  // namespace pgopt::analyzer::advisor
