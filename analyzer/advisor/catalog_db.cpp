// Loads the catalog from a live server: pg_class, pg_stats, pg_index and the usage statistics views.
#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>

#include "analyzer/advisor/catalog.hpp"
#include "analyzer/advisor/pg_array.hpp"
#include "analyzer/workload.hpp"

namespace pgopt::analyzer::advisor {
namespace {

struct Result {
  PGresult* r = nullptr;
  explicit Result(PGresult* res) : r(res) {}
  ~Result() { PQclear(r); }
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  bool ok() const { return r && PQresultStatus(r) == PGRES_TUPLES_OK; }
  int rows() const { return PQntuples(r); }
  std::string s(int row, int col) const { return PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col); }
  bool null(int row, int col) const { return PQgetisnull(r, row, col); }
  double d(int row, int col, double dflt = 0) const { return null(row, col) ? dflt : std::strtod(PQgetvalue(r, row, col), nullptr); }
  bool b(int row, int col) const { return s(row, col) == "t"; }
};

constexpr const char* kUserSchemas =
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' "
    "AND n.nspname NOT LIKE 'pg\\_temp%'";

// Every catalog read carries pgopt's tag (analyzer/workload.hpp): a later run leaves it out.
PGresult* exec_tagged(PGconn* conn, const std::string& sql) { return PQexec(conn, own_tagged(sql).c_str()); }

std::string error_of(PGconn* conn, const char* what) {
  std::string msg = PQerrorMessage(conn);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return std::string(what) + ": " + msg;
}

// The sessions in the log may run as other roles than ours, with other search_paths: read every
// role's setting for this database and the default a role without one gets.
void load_search_paths(PGconn* conn, Catalog& cat) {
  Result r(exec_tagged(conn,
      "SELECT COALESCE(r.rolname, ''), s.setdatabase <> 0, substr(c, 13) "
      "FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole, unnest(s.setconfig) c "
      "WHERE s.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database())) "
      "AND c LIKE 'search\\_path=%' ORDER BY 2"));  // role-only first, so role-in-database wins
  std::string database_setting;
  if (r.ok()) {
    for (int i = 0; i < r.rows(); ++i) {
      if (r.s(i, 0).empty()) {
        if (r.b(i, 1)) database_setting = r.s(i, 2);
      } else {
        cat.role_search_path[r.s(i, 0)] = r.s(i, 2);
      }
    }
  }
  Result d(exec_tagged(conn, "SELECT current_user, reset_val, boot_val FROM pg_settings WHERE name = 'search_path'"));
  if (!d.ok() || d.rows() != 1) return;
  // reset_val is the server's (or the database's) value unless our own role has a setting.
  if (!database_setting.empty()) cat.default_search_path = database_setting;
  else if (!cat.role_search_path.count(d.s(0, 0))) cat.default_search_path = d.s(0, 1);
  else cat.default_search_path = d.s(0, 2);
}

// pg_get_indexdef quotes a column name that needs it ("Id"); the catalog keeps names as they are.
std::string unquote_ident(const std::string& s) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return s;
  std::string out;
  for (size_t i = 1; i + 1 < s.size(); ++i) {
    out += s[i];
    if (s[i] == '"' && s[i + 1] == '"') ++i;
  }
  return out;
}

// View definitions with every name schema-qualified (an empty search_path makes pg_get_viewdef
// qualify them), since the statements naming a view may run under another search_path than ours.
void load_views(PGconn* conn, Catalog& cat) {
  Result begin(exec_tagged(conn, "BEGIN"));
  Result path(exec_tagged(conn, "SET LOCAL search_path = ''"));
  {
    Result r(exec_tagged(conn, std::string("SELECT n.nspname, c.relname, pg_get_viewdef(c.oid) FROM pg_class c "
                                           "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'v' AND ") +
                                   kUserSchemas + " ORDER BY 1, 2"));
    for (int i = 0; r.ok() && i < r.rows(); ++i) {
      ViewInfo v{r.s(i, 0), r.s(i, 1), r.s(i, 2)};
      while (!v.definition.empty() && (v.definition.back() == ';' || std::isspace(static_cast<unsigned char>(v.definition.back()))))
        v.definition.pop_back();
      cat.views.push_back(std::move(v));
    }
  }
  Result end(exec_tagged(conn, "COMMIT"));
}

using OidMap = std::map<std::string, size_t>;  // pg_class oid -> index in Catalog::tables

bool load_tables(PGconn* conn, Catalog& cat, OidMap& by_oid, std::string& error) {
  std::string q = std::string(
      "SELECT c.oid, n.nspname, c.relname, c.reltuples, c.relpages, pg_total_relation_size(c.oid), "
      "c.relispartition, s.n_tup_ins, s.n_tup_upd, s.n_tup_hot_upd, s.n_tup_del, "
      "CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END, pg_relation_size(c.oid), c.relpersistence "
      "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
      "WHERE c.relkind IN ('r', 'p', 'm') AND ") + kUserSchemas + " ORDER BY n.nspname, c.relname";
  Result r(exec_tagged(conn, q.c_str()));
  if (!r.ok()) {
    error = error_of(conn, "reading tables");
    return false;
  }
  for (int i = 0; i < r.rows(); ++i) {
    TableInfo t;
    t.schema = r.s(i, 1);
    t.name = r.s(i, 2);
    // Other sessions' temporary tables are already left out with their pg_temp schemas.
    if (r.s(i, 13) == "u") {
      cat.skipped.push_back({t.schema, t.name, kUnloggedReason});
      continue;
    }
    t.reltuples = r.d(i, 3, -1);
    t.relpages = r.d(i, 4);
    t.total_bytes = r.d(i, 5);
    t.is_partition = r.b(i, 6);
    t.n_tup_ins = r.d(i, 7, -1);
    t.n_tup_upd = r.d(i, 8, -1);
    t.n_tup_hot_upd = r.d(i, 9, -1);
    t.n_tup_del = r.d(i, 10, -1);
    t.partition_by = r.s(i, 11);
    // Never analysed: the planner uses the heap's real size, and so do we.
    if (t.reltuples < 0) t.relpages = std::max(t.relpages, r.d(i, 12) / 8192);
    by_oid[r.s(i, 0)] = cat.tables.size();
    cat.tables.push_back(std::move(t));
  }
  return true;
}

// Each partition's parent, each inheritance parent's children. A partitioned table has no heap of its own (relpages -1) and autovacuum
// never analyses it (reltuples -1 until someone runs ANALYZE on it): its size is its leaves' sum.
void load_partitions(PGconn* conn, Catalog& cat, const OidMap& by_oid) {
  Result r(exec_tagged(conn, "SELECT h.inhparent, h.inhrelid, c.relispartition FROM pg_inherits h "
                             "JOIN pg_class c ON c.oid = h.inhrelid WHERE c.relkind IN ('r', 'p') "
                             "ORDER BY h.inhparent, c.relname"));
  for (int i = 0; r.ok() && i < r.rows(); ++i) {
    auto parent = by_oid.find(r.s(i, 0)), child = by_oid.find(r.s(i, 1));
    if (parent == by_oid.end() || child == by_oid.end()) continue;
    TableInfo& p = cat.tables[parent->second];
    if (!r.b(i, 2)) {
      p.inheritors.push_back(cat.tables[child->second].qualified());
      continue;
    }
    p.partitions.push_back(cat.tables[child->second].qualified());
    cat.tables[child->second].parent = p.qualified();
  }
  for (auto& t : cat.tables) {
    if (t.partition_by.empty()) continue;
    double tuples = 0, pages = 0;
    bool all_analysed = true;
    for (const TableInfo* leaf : cat.leaves(t)) {
      all_analysed = all_analysed && leaf->reltuples >= 0;
      tuples += std::max(0.0, leaf->reltuples);
      pages += std::max(0.0, leaf->relpages);
    }
    if (t.relpages <= 0) t.relpages = pages;
    if (t.reltuples < 0 && all_analysed) t.reltuples = tuples;
  }
}

bool load_columns(PGconn* conn, Catalog& cat, const OidMap& by_oid, std::string& error) {
  std::string q = std::string(
      "SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
      // The column's collation sorts bytewise (C, POSIX, ucs_basic; the database's own for "default").
      "COALESCE(CASE WHEN co.collname = 'default' THEN (SELECT datcollate FROM pg_database "
      "WHERE datname = current_database()) ELSE co.collcollate END IN ('C', 'POSIX'), false) "
      "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
      "LEFT JOIN pg_collation co ON co.oid = a.attcollation "
      "WHERE c.relkind IN ('r', 'p', 'm') AND a.attnum > 0 AND NOT a.attisdropped AND ") + kUserSchemas +
      " ORDER BY a.attrelid, a.attnum";
  Result r(exec_tagged(conn, q.c_str()));
  if (!r.ok()) {
    error = error_of(conn, "reading columns");
    return false;
  }
  for (int i = 0; i < r.rows(); ++i) {
    auto it = by_oid.find(r.s(i, 0));
    if (it == by_oid.end()) continue;
    ColumnInfo c;
    c.name = r.s(i, 1);
    c.type = r.s(i, 2);
    c.not_null = r.b(i, 3);
    c.bytewise_collation = r.b(i, 4);
    cat.tables[it->second].columns.push_back(std::move(c));
  }
  return true;
}

void load_stats(PGconn* conn, Catalog& cat) {
  // inherited = false first: for plain tables that is the only row; partitioned parents only
  // have the inherited one.
  Result r(exec_tagged(conn, "SELECT schemaname, tablename, attname, null_frac, avg_width, n_distinct, "
                  "most_common_vals::text, most_common_freqs::text, histogram_bounds::text, correlation "
                  "FROM pg_stats WHERE schemaname NOT IN ('pg_catalog', 'information_schema') "
                  "ORDER BY inherited"));
  if (!r.ok()) return;
  for (int i = 0; i < r.rows(); ++i) {
    TableInfo* t = cat.find(r.s(i, 0) + "." + r.s(i, 1));
    if (!t) continue;
    for (auto& c : t->columns) {
      if (c.name != r.s(i, 2) || c.has_stats) continue;
      c.has_stats = true;
      c.null_frac = r.d(i, 3);
      c.avg_width = r.d(i, 4, 8);
      c.n_distinct = r.d(i, 5);
      c.mcv = parse_pg_array(r.s(i, 6));
      for (const auto& f : parse_pg_array(r.s(i, 7))) c.mcf.push_back(std::strtod(f.c_str(), nullptr));
      if (c.mcf.size() != c.mcv.size()) c.mcv.clear(), c.mcf.clear();
      c.histogram = parse_pg_array(r.s(i, 8));
      c.correlation = r.d(i, 9);
      cat.has_statistics = true;
    }
  }
}

IndexInfo index_of_row(const Result& r, int i) {
  IndexInfo x;
  x.name = r.s(i, 1);
  x.schema = r.s(i, 2);
  x.method = r.s(i, 3);
  x.unique = r.b(i, 4);
  x.primary = r.b(i, 5);
  x.valid = r.b(i, 6);
  x.constraint = r.b(i, 7);
  x.size_bytes = r.d(i, 8);
  x.idx_scan = r.null(i, 9) ? -1 : (long long)r.d(i, 9);
  x.definition = r.s(i, 10);
  x.where = r.s(i, 11);
  x.attached = r.b(i, 16);
  int nkey = int(r.d(i, 12));
  std::vector<std::string> attnums = parse_int_vector(r.s(i, 13));
  std::vector<std::string> options = parse_int_vector(r.s(i, 14));
  std::vector<std::string> cols = parse_pg_array(r.s(i, 15));
  for (int k = 0; k < int(cols.size()); ++k) {
    bool expression = k < int(attnums.size()) && attnums[size_t(k)] == "0";
    std::string name = expression ? "(" + cols[size_t(k)] + ")" : unquote_ident(cols[size_t(k)]);
    if (k < nkey) {
      x.columns.push_back(name);
      x.descending.push_back(k < int(options.size()) && (std::atoi(options[size_t(k)].c_str()) & 1));
    } else {
      x.include.push_back(name);
    }
  }
  return x;
}

bool load_indexes(PGconn* conn, Catalog& cat, const OidMap& by_oid, std::string& error) {
  std::string q = std::string(
      "SELECT i.indrelid, ic.relname, n.nspname, am.amname, i.indisunique, i.indisprimary, i.indisvalid, "
      "EXISTS (SELECT 1 FROM pg_constraint co WHERE co.conindid = i.indexrelid), "
      "pg_relation_size(i.indexrelid), s.idx_scan, pg_get_indexdef(i.indexrelid), "
      "pg_get_expr(i.indpred, i.indrelid), i.indnkeyatts, i.indkey::text, i.indoption::text, "
      "ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnatts) k)::text, "
      "EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid) "
      "FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
      "JOIN pg_namespace n ON n.oid = ic.relnamespace JOIN pg_am am ON am.oid = ic.relam "
      "LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = i.indexrelid WHERE ") + kUserSchemas +
      " ORDER BY ic.relname";
  Result r(exec_tagged(conn, q.c_str()));
  if (!r.ok()) {
    error = error_of(conn, "reading indexes");
    return false;
  }
  for (int i = 0; i < r.rows(); ++i) {
    auto it = by_oid.find(r.s(i, 0));
    if (it != by_oid.end()) cat.tables[it->second].indexes.push_back(index_of_row(r, i));
  }
  return true;
}

void load_stats_reset(PGconn* conn, Catalog& cat) {
  Result r(exec_tagged(conn, "SELECT date_trunc('second', COALESCE(stats_reset, pg_postmaster_start_time()))::text, "
                  "extract(epoch FROM now() - COALESCE(stats_reset, pg_postmaster_start_time())) / 86400, "
                  "stats_reset IS NULL FROM pg_stat_database WHERE datname = current_database()"));
  if (r.ok() && r.rows() == 1) {
    cat.stats_reset = r.s(0, 0);
    cat.stats_since_start = r.b(0, 2);
    cat.stats_age_days = r.d(0, 1);
  }
}

}  // namespace

CatalogLoad load_catalog(PGconn* conn) {
  CatalogLoad out;
  Catalog& cat = out.catalog;
  cat.source = "database";
  OidMap by_oid;
  {
    Result r(exec_tagged(conn, "SELECT current_schemas(false)::text"));
    if (r.ok() && r.rows() == 1) cat.search_path = parse_pg_array(r.s(0, 0));
  }
  load_search_paths(conn, cat);
  load_views(conn, cat);
  if (!load_tables(conn, cat, by_oid, out.error)) return out;
  load_partitions(conn, cat, by_oid);
  if (!load_columns(conn, cat, by_oid, out.error)) return out;
  load_stats(conn, cat);
  if (!load_indexes(conn, cat, by_oid, out.error)) return out;
  load_stats_reset(conn, cat);
  return out;
}

}  // namespace pgopt::analyzer::advisor
