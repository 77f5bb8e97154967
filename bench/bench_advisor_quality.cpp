// bench_advisor_quality: the measuring side of bench/advisor_quality.sh. Given a logged workload and
// a database holding one index configuration, it prices the workload with the planner (EXPLAIN of
// the logged statements, real literals) plus a write charge for index maintenance, per template.
//
//   bench_advisor_quality single-column --db CONNINFO --templates FILE
//       prints one CREATE INDEX per column the templates filter or join on (the naive baseline),
//       skipping columns that already lead an index
//   bench_advisor_quality cost --db CONNINFO --templates FILE --log FILE [--samples N]
//       prints per-template costs and KEY=VALUE totals for the configuration in the database
//
// Write charge (the model docs/analyzer.md describes for pgopt, applied to the real indexes): each
// inserted row costs 1 planner cost unit per index of its table (partial ones included, which can
// only flatter a baseline without them); an UPDATE that sets an indexed column (key, INCLUDE or
// partial predicate) is not HOT and costs 1 unit per index of the table; HOT updates cost nothing.
#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "analyzer/advisor/catalog.hpp"
#include "analyzer/advisor/model.hpp"
#include "analyzer/input.hpp"
#include "sql/parser.hpp"

namespace {

using namespace pgopt::analyzer;

struct Template {
  std::string name, kind, sql;
  double weight = 0;
};

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "bench_advisor_quality: %s\n", msg.c_str());
  std::exit(1);
}

// pgbench variables (:name, not the :: of a cast) become 1: the fingerprint ignores constants.
std::string bind_variables(const std::string& sql) {
  std::string out;
  for (size_t i = 0; i < sql.size(); ++i) {
    bool var = sql[i] == ':' && i + 1 < sql.size() && (std::isalpha(static_cast<unsigned char>(sql[i + 1])) || sql[i + 1] == '_') &&
               (i == 0 || sql[i - 1] != ':');
    if (!var) {
      out += sql[i];
      continue;
    }
    out += '1';
    ++i;
    while (i + 1 < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[i + 1])) || sql[i + 1] == '_')) ++i;
  }
  return out;
}

std::vector<Template> load_templates(const std::string& path) {
  std::ifstream in(path);
  if (!in) die("cannot read " + path);
  std::vector<Template> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("-- template ", 0) == 0) {
      Template t;
      std::istringstream ls(line.substr(12));
      std::string weight;
      ls >> t.name >> t.kind >> weight;
      t.weight = std::atof(weight.c_str());
      if (t.kind != "read" && t.kind != "write" && t.kind != "trap") die("bad template kind in: " + line);
      out.push_back(t);
    } else if (!out.empty() && !line.empty() && line[0] != '\\' && line.rfind("--", 0) != 0) {
      out.back().sql += (out.back().sql.empty() ? "" : " ") + line;
    }
  }
  if (out.empty()) die("no templates in " + path);
  return out;
}

struct Conn {
  PGconn* c;
  explicit Conn(const std::string& conninfo) : c(PQconnectdb(conninfo.c_str())) {
    if (PQstatus(c) != CONNECTION_OK) die(std::string("--db: ") + PQerrorMessage(c));
  }
  ~Conn() { PQfinish(c); }
};

std::optional<double> explain_cost(PGconn* c, const std::string& sql) {
  std::string q = "EXPLAIN (FORMAT JSON) " + sql;
  PGresult* r = PQexecParams(c, q.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0);  // one statement only
  std::optional<double> cost;
  if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
    std::string json = PQgetvalue(r, 0, 0);
    auto pos = json.find("\"Total Cost\":");
    if (pos != std::string::npos) cost = std::strtod(json.c_str() + pos + 13, nullptr);
  } else {
    std::fprintf(stderr, "EXPLAIN failed: %s  (%.120s)\n", PQerrorMessage(c), sql.c_str());
  }
  PQclear(r);
  return cost;
}

bool index_uses(const advisor::IndexInfo& i, const std::string& column) {
  for (const auto& k : i.columns)
    if (advisor::key_uses(k, column)) return true;
  for (const auto& k : i.include)
    if (k == column) return true;
  return !i.where.empty() && advisor::key_uses("(" + i.where + ")", column);
}

int single_column(const std::string& db, const std::vector<Template>& templates) {
  Conn conn(db);
  auto load = advisor::load_catalog(conn.c);
  if (!load.error.empty()) die(load.error);
  Workload w;
  for (const auto& t : templates) {
    std::string sql = bind_variables(t.sql);
    auto fp = pgopt::sql::fingerprint(sql);
    if (!fp.value) die("template " + t.name + " does not parse: " + fp.error.message);
    QueryGroup& g = w.groups[*fp.value];
    g.fingerprint = *fp.value;
    g.normalized = sql;
    g.calls = 1;
    g.samples = {sql};
  }
  auto models = advisor::build_models(w, load.catalog);
  std::set<std::pair<std::string, std::string>> columns;  // (relation, column)
  for (const auto& q : models.queries)
    for (const auto& a : q.accesses) {
      for (const auto& p : a.predicates) {
        std::string c = p.pred.base_column.empty() ? p.pred.column : p.pred.base_column;
        if (a.table->column(c)) columns.insert({a.table->qualified(), c});
      }
      for (const auto& j : a.joins)
        if (a.table->column(j.column)) columns.insert({a.table->qualified(), j.column});
    }
  for (const auto& [rel, col] : columns) {
    const auto* t = load.catalog.find(rel);
    bool leads = false;
    for (const auto& i : t->indexes) leads = leads || (!i.columns.empty() && i.columns[0] == col && i.where.empty());
    if (!leads) std::printf("CREATE INDEX ON %s (%s);\n", rel.c_str(), advisor::quote_ident(col).c_str());
  }
  return 0;
}

int cost(const std::string& db, const std::vector<Template>& templates, const std::string& log, size_t samples) {
  std::map<uint64_t, size_t> by_fp;
  for (size_t i = 0; i < templates.size(); ++i) {
    auto fp = pgopt::sql::fingerprint(bind_variables(templates[i].sql));
    if (!fp.value) die("template " + templates[i].name + " does not parse");
    by_fp[*fp.value] = i;
  }
  InputOptions in;
  in.samples_per_group = std::max<size_t>(samples, 1);
  InputResult r = read_logs({log}, in);
  for (const auto& e : r.errors) die(e);
  Conn conn(db);
  auto load = advisor::load_catalog(conn.c);
  if (!load.error.empty()) die(load.error);
  const auto& cat = load.catalog;

  struct Row {
    double calls = 0, read = 0, write = 0;
    bool seen = false;
  };
  std::vector<Row> rows(templates.size());
  size_t unmatched = 0;
  for (const auto& [fp, g] : r.workload.groups) {
    auto it = by_fp.find(fp);
    if (it == by_fp.end()) {
      ++unmatched;
      continue;
    }
    double sum = 0;
    int n = 0;
    for (size_t i = 0; i < g.samples.size() && i < samples; ++i)
      if (auto c = explain_cost(conn.c, g.samples[i])) {
        sum += *c;
        ++n;
      }
    if (!n) die("no sample of template " + templates[it->second].name + " could be explained");
    Row& row = rows[it->second];
    row.seen = true;
    row.calls += double(g.calls);
    row.read += double(g.calls) * sum / n;
  }
  // Write charge from the statements' writes (pgopt's extraction) and the database's indexes.
  Workload writes;
  for (const auto& [fp, g] : r.workload.groups)
    if (by_fp.count(fp)) writes.groups[fp] = g;
  auto models = advisor::build_models(writes, cat);
  for (const auto& q : models.queries) {
    Row& row = rows[by_fp[q.fingerprint]];
    for (const auto& w : q.writes) {
      double n_indexes = double(w.table->indexes.size());
      double rows_written = q.weight * w.rows_per_call;
      if (w.kind == pgopt::sql::WriteKind::Insert || w.kind == pgopt::sql::WriteKind::Copy) {
        row.write += rows_written * n_indexes;
      } else if (w.kind == pgopt::sql::WriteKind::Update) {
        bool hot = true;
        for (const auto& i : w.table->indexes)
          for (const auto& c : w.set_columns) hot = hot && !index_uses(i, c);
        if (!hot) row.write += rows_written * n_indexes;
      }
    }
  }

  double total = 0, trap = 0, non_trap = 0, write = 0;
  std::printf("%-20s %-5s %8s %14s %12s %12s\n", "template", "kind", "calls", "cost/call", "read cost", "write charge");
  for (size_t i = 0; i < templates.size(); ++i) {
    const Row& row = rows[i];
    double c = row.read + row.write;
    std::printf("%-20s %-5s %8.0f %14.2f %12.0f %12.0f%s\n", templates[i].name.c_str(), templates[i].kind.c_str(), row.calls,
                row.calls > 0 ? row.read / row.calls : 0.0, row.read, row.write, row.seen ? "" : "  (not in the log)");
    total += c;
    write += row.write;
    (templates[i].kind == "trap" ? trap : non_trap) += c;
  }
  size_t secondary = 0;
  double bytes = 0;
  for (const auto& t : cat.tables)
    for (const auto& i : t.indexes)
      if (!i.primary) {
        ++secondary;
        bytes += i.size_bytes;
      }
  std::printf("total_cost=%.0f\nnon_trap_cost=%.0f\ntrap_cost=%.0f\nwrite_charge=%.0f\nsecondary_indexes=%zu\n"
              "secondary_index_bytes=%.0f\nunmatched_groups=%zu\n",
              total, non_trap, trap, write, secondary, bytes, unmatched);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) die("usage: bench_advisor_quality single-column|cost --db CONNINFO --templates FILE [--log FILE] [--samples N]");
  std::string mode = argv[1], db, templates, log;
  size_t samples = 5;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) die(a + " needs a value");
    std::string v = argv[++i];
    if (a == "--db") db = v;
    else if (a == "--templates") templates = v;
    else if (a == "--log") log = v;
    else if (a == "--samples") samples = size_t(std::max(1, std::atoi(v.c_str())));
    else die("unknown option " + a);
  }
  if (db.empty() || templates.empty()) die("--db and --templates are required");
  auto t = load_templates(templates);
  if (mode == "single-column") return single_column(db, t);
  if (mode == "cost") {
    if (log.empty()) die("cost needs --log");
    return cost(db, t, log, samples);
  }
  die("unknown mode " + mode);
}
