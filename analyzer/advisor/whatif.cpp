// HypoPG what-if costing over one libpq connection (hypothetical indexes live in one backend).
// Every statement goes through the extended protocol, which runs exactly one statement: a logged
// sample can never smuggle a second command in, and EXPLAIN without ANALYZE executes nothing. Every
// statement carries pgopt's own tag (analyzer/workload.hpp), so a later run leaves them out.
#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include "analyzer/advisor/evaluator.hpp"
#include "analyzer/advisor/pg_array.hpp"

namespace pgopt::analyzer::advisor {
namespace {

class PgResult {
 public:
  explicit PgResult(PGresult* r) : r_(r) {}
  ~PgResult() { PQclear(r_); }
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  PGresult* get() const { return r_; }
  bool tuples() const { return r_ && PQresultStatus(r_) == PGRES_TUPLES_OK && PQntuples(r_) > 0; }
  bool command_ok() const { return r_ && PQresultStatus(r_) == PGRES_COMMAND_OK; }
  std::string value(int row = 0, int col = 0) const { return PQgetvalue(r_, row, col); }

 private:
  PGresult* r_;
};

std::optional<double> total_cost(const std::string& json) {
  auto pos = json.find("\"Total Cost\":");
  if (pos == std::string::npos) return std::nullopt;
  return std::strtod(json.c_str() + pos + 13, nullptr);
}

int max_param(const std::string& sql) {
  int best = 0;
  for (size_t i = 0; i + 1 < sql.size(); ++i)
    if (sql[i] == '$' && std::isdigit(static_cast<unsigned char>(sql[i + 1])))
      best = std::max(best, std::atoi(sql.c_str() + i + 1));
  return best;
}

class HypoPG : public Evaluator {
 public:
  // `schema`: HypoPG's schema, quoted; its functions are called through it, since the logged
  // session's search_path the EXPLAINs run under need not contain it.
  HypoPG(PGconn* conn, std::string schema)
      : conn_(conn), create_("SELECT indexrelid FROM " + schema + ".hypopg_create_index($1)"),
        drop_("SELECT " + schema + ".hypopg_drop_index($1::oid)") {}
  std::string method() const override { return "hypopg"; }
  std::string last_error() const override { return error_; }

  // HypoPG runs PostgreSQL's own check (CheckMutability: every function, operator and cast of an
  // index expression must have pg_proc.provolatile = 'i'): create the index, then drop it.
  std::string unusable(const IndexSpec& index) override {
    std::string ddl = hypothetical_ddl(index).front();
    const char* v[1] = {ddl.c_str()};
    PgResult r = exec(create_, 1, v);
    if (!r.tuples()) {
      std::string m = PQerrorMessage(conn_);
      while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
      if (m.rfind("ERROR:  ", 0) == 0) m = m.substr(8);
      return m.empty() ? "HypoPG could not create it" : m;
    }
    drop_quietly(r.value());
    return "";
  }

  std::optional<double> cost(const QueryModel& q, const std::vector<const IndexSpec*>& config) override {
    if (!q.explainable || !sync(config) || !use_search_path(q.search_path)) return std::nullopt;
    if (!q.explain_samples.empty()) {
      double sum = 0;
      int n = 0;
      for (const auto& s : q.explain_samples) {
        auto c = explain("EXPLAIN (FORMAT JSON) " + s);
        // Logged with placeholders and no values (extended protocol without
        // log_parameter_max_length): "bind message supplies 0 parameters". Its generic plan still
        // costs it, as the server would plan it after five executions.
        if (!c && max_param(s) > 0) c = generic(s);
        if (c) {
          sum += *c;
          ++n;
        }
      }
      if (n) return sum / n;
      return std::nullopt;
    }
    return generic(q.group ? q.group->normalized : std::string());
  }

 private:
  PGconn* conn_;
  std::string create_, drop_;  // the schema-qualified HypoPG calls
  std::map<std::string, std::vector<std::string>> created_;  // IndexSpec::key -> hypothetical index oids
  std::string error_;
  std::optional<std::vector<std::string>> search_path_;  // what this backend was last set to

  // The logged session's search_path for this group (the connection's own when it is unknown).
  bool use_search_path(const std::vector<std::string>& path) {
    if (!search_path_) {
      PgResult r = exec("SELECT current_schemas(false)::text");
      if (!r.tuples()) {
        note_error();
        return false;
      }
      own_search_path_ = parse_pg_array(r.value());
      search_path_ = std::vector<std::string>{};
    }
    if (*search_path_ == path) return true;
    std::string setting;
    for (const auto& s : path.empty() ? own_search_path_ : path) {
      setting += setting.empty() ? "\"" : ", \"";
      for (char c : s) setting += c == '"' ? std::string("\"\"") : std::string(1, c);
      setting += '"';
    }
    const char* v[1] = {setting.c_str()};
    PgResult r = exec("SELECT set_config('search_path', $1, false)", 1, v);
    if (!r.tuples()) {
      note_error();
      return false;
    }
    search_path_ = path;
    return true;
  }
  std::vector<std::string> own_search_path_;  // current_schemas(false) when the run started

  void note_error() {
    std::string m = PQerrorMessage(conn_);
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    error_ = m;
  }

  PgResult exec(const std::string& sql, int nparams = 0, const char* const* values = nullptr) {
    return PgResult(PQexecParams(conn_, own_tagged(sql).c_str(), nparams, nullptr, values, nullptr, nullptr, 0));
  }

  // Makes exactly `config` the set of hypothetical indexes.
  bool sync(const std::vector<const IndexSpec*>& config) {
    std::map<std::string, const IndexSpec*> want;
    for (const IndexSpec* s : config) want[s->key()] = s;
    for (auto it = created_.begin(); it != created_.end();) {
      if (want.count(it->first)) {
        ++it;
        continue;
      }
      for (const auto& oid : it->second) {
        const char* v[1] = {oid.c_str()};
        PgResult r = exec(drop_, 1, v);
        if (!r.tuples()) {
          note_error();
          return false;
        }
      }
      it = created_.erase(it);
    }
    for (const auto& [key, spec] : want) {
      if (created_.count(key)) continue;
      std::vector<std::string> oids;
      for (const auto& ddl : hypothetical_ddl(*spec)) {
        const char* v[1] = {ddl.c_str()};
        PgResult r = exec(create_, 1, v);
        if (!r.tuples()) {
          note_error();
          for (const auto& oid : oids) drop_quietly(oid);
          return false;
        }
        oids.push_back(r.value());
      }
      created_[key] = std::move(oids);
    }
    return true;
  }

  // One hypothetical index per leaf of a partitioned table: what PostgreSQL would build, each sized
  // after its own partition (HypoPG given the parent sizes every partition's index after the
  // whole table).
  static std::vector<std::string> hypothetical_ddl(const IndexSpec& spec) {
    if (spec.leaves.empty()) return {spec.ddl("", false)};
    std::vector<std::string> out;
    for (const auto& [schema, table] : spec.leaves) {
      IndexSpec leaf = spec;
      leaf.schema = schema;
      leaf.table = table;
      leaf.leaves.clear();
      out.push_back(leaf.ddl("", false));
    }
    return out;
  }

  void drop_quietly(const std::string& oid) {
    const char* v[1] = {oid.c_str()};
    PgResult r = exec(drop_, 1, v);
  }

  std::optional<double> explain(const std::string& sql) {
    PgResult r = exec(sql);
    if (!r.tuples()) {
      note_error();
      return std::nullopt;
    }
    return total_cost(r.value());
  }

  // No sample with literals (pg_stat_statements): the generic plan of the parameterized text.
  std::optional<double> generic(const std::string& normalized) {
    if (normalized.empty()) return std::nullopt;
    PgResult p(PQprepare(conn_, "pgopt_whatif", own_tagged(normalized).c_str(), 0, nullptr));
    if (!p.command_ok()) {
      note_error();
      return std::nullopt;
    }
    std::string args;
    int n = max_param(normalized);
    for (int i = 0; i < n; ++i) args += i ? ", NULL" : "NULL";
    auto c = explain("EXPLAIN (FORMAT JSON) EXECUTE pgopt_whatif" + (n ? "(" + args + ")" : std::string()));
    PgResult d(PQexec(conn_, own_tagged("DEALLOCATE pgopt_whatif").c_str()));
    return c;
  }
};

}  // namespace

std::unique_ptr<Evaluator> make_hypopg(PGconn* conn) {
  std::string schema;
  {
    PgResult r(PQexec(conn, own_tagged("SELECT quote_ident(n.nspname) FROM pg_extension e "
                                       "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'hypopg'").c_str()));
    if (!r.tuples()) return nullptr;
    schema = r.value();
  }
  // A clean slate in this backend, generic plans for PREPAREd pg_stat_statements texts, and a
  // bound on any single EXPLAIN (planning a pathological statement must not hang the run).
  for (const std::string& s : {"SELECT " + schema + ".hypopg_reset()", std::string("SET plan_cache_mode = force_generic_plan"),
                               std::string("SET statement_timeout = '30s'")}) {
    PgResult r(PQexec(conn, own_tagged(s).c_str()));
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK && PQresultStatus(r.get()) != PGRES_COMMAND_OK) return nullptr;
  }
  return std::make_unique<HypoPG>(conn, schema);
}

}  // namespace pgopt::analyzer::advisor
