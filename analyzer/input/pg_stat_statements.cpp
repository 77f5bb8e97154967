// read_pg_stat_statements: one query over libpq; the ($n-normalized) texts are fingerprinted so
// they group with the same statements read from logs.
#include <libpq-fe.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "analyzer/input.hpp"
#include "analyzer/input/fingerprint_cache.hpp"
#include "analyzer/input/shape.hpp"

namespace pgopt::analyzer {
namespace {

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultCloser {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Conn = std::unique_ptr<PGconn, ConnCloser>;
using Result = std::unique_ptr<PGresult, ResultCloser>;

std::string trimmed_error(const char* msg) {
  std::string s = msg ? msg : "unknown error";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

InputResult read_pg_stat_statements(const std::string& conninfo, const InputOptions& options) {
  InputResult out;
  (void)options;
  Conn conn(PQconnectdb(conninfo.c_str()));
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    out.errors.push_back("pg_stat_statements: cannot connect: " +
                         trimmed_error(conn ? PQerrorMessage(conn.get()) : "out of memory"));
    return out;
  }
  Result has(PQexec(conn.get(),
                    own_tagged("SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_stat_statements'").c_str()));
  if (PQresultStatus(has.get()) != PGRES_TUPLES_OK) {
    out.errors.push_back("pg_stat_statements: " + trimmed_error(PQerrorMessage(conn.get())));
    return out;
  }
  if (PQntuples(has.get()) == 0) {
    out.errors.push_back(std::string("pg_stat_statements: the extension is not installed in database \"") +
                         PQdb(conn.get()) + "\" (CREATE EXTENSION pg_stat_statements)");
    return out;
  }
  // PostgreSQL 13 renamed total_time/mean_time/max_time to *_exec_time.
  bool exec_names = PQserverVersion(conn.get()) >= 130000;
  std::string q = exec_names
                      ? "SELECT queryid, query, calls, total_exec_time, mean_exec_time, max_exec_time, rows "
                      : "SELECT queryid, query, calls, total_time, mean_time, max_time, rows ";
  // The view covers every database of the cluster: only this database's statements are its workload
  // (another database's table of the same name is a different table).
  q += "FROM pg_stat_statements WHERE query IS NOT NULL AND calls > 0 "
       "AND dbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())";
  Result res(PQexec(conn.get(), own_tagged(q).c_str()));
  if (PQresultStatus(res.get()) != PGRES_TUPLES_OK) {
    out.errors.push_back("pg_stat_statements: " + trimmed_error(PQerrorMessage(conn.get())));
    return out;
  }
  Workload& w = out.workload;
  input::FingerprintCache cache;
  std::string shape;
  uint64_t hidden = 0;
  int n = PQntuples(res.get());
  for (int i = 0; i < n; ++i) {
    if (PQgetisnull(res.get(), i, 1)) continue;
    std::string_view text = PQgetvalue(res.get(), i, 1);
    if (text == "<insufficient privilege>") {
      ++hidden;
      continue;
    }
    uint64_t calls = std::strtoull(PQgetvalue(res.get(), i, 2), nullptr, 10);
    double total = std::strtod(PQgetvalue(res.get(), i, 3), nullptr);
    double max = std::strtod(PQgetvalue(res.get(), i, 5), nullptr);
    uint64_t rows = std::strtoull(PQgetvalue(res.get(), i, 6), nullptr, 10);
    w.statements += calls;
    if (!input::statement_shape(text, shape)) {
      w.parse_failures += calls;
      continue;
    }
    const input::ShapeInfo& info = cache.lookup(shape, text);
    if (!info.ok) {
      w.parse_failures += calls;
      continue;
    }
    auto [it, fresh] = w.groups.try_emplace(info.fingerprint);
    QueryGroup& g = it->second;
    if (fresh) {
      g.fingerprint = info.fingerprint;
      g.normalized = std::string(text);  // already normalized by the server
      g.has_literal_samples = false;
      g.from_pg_stat_statements = true;
    }
    g.calls += calls;
    g.timed_calls += calls;
    g.total_ms += total;
    if (max > g.max_ms) g.max_ms = max;
    g.rows += rows;
    if (!PQgetisnull(res.get(), i, 0)) g.queryids.push_back(std::strtoll(PQgetvalue(res.get(), i, 0), nullptr, 10));
  }
  std::string where = std::string(PQdb(conn.get())) + " on " + (PQhost(conn.get()) ? PQhost(conn.get()) : "?") +
                      ":" + (PQport(conn.get()) ? PQport(conn.get()) : "?");
  w.sources.push_back("pg_stat_statements (" + where + ")");
  w.notes.push_back("pg_stat_statements (" + where + "): " + std::to_string(w.groups.size()) +
                    " fingerprints; texts are normalized ($n), so there are no literal samples to EXPLAIN with");
  if (hidden)
    w.notes.push_back("pg_stat_statements: " + std::to_string(hidden) +
                      " statements hidden (<insufficient privilege>): connect as a superuser or a pg_read_all_stats member");
  return out;
}

}  // namespace pgopt::analyzer
