// `pgopt analyze`: options parsing and the pipeline's top level (workload -> catalog -> advisor ->
// report).
#include "app/analyze_cli.hpp"

#include <libpq-fe.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include "analyzer/advisor/advisor.hpp"
#include "analyzer/advisor/verify.hpp"
#include "analyzer/input.hpp"
#include "analyzer/input/capture_reader.hpp"
#include "analyzer/report/report.hpp"

namespace pgopt::app {
namespace {

using namespace pgopt::analyzer;  // the part whose command line this is

int g_exit = 0;

// Values are checked in run(), not by CLI11 validators: a bad value is a usage error (exit 2) with
// a message in the same words as every other one.
struct Options {
  std::vector<std::string> logs, captures;
  std::string db, schema, log_format = "auto", log_line_prefix, format = "markdown", output, budget;
  bool pg_stat_statements = false, show_samples = false;
  std::string max_indexes = "20", min_improvement = "0.3", consolidate = "1", jobs = "1";
  std::string fail_above;  // empty: never fail on the advice
  std::string verify, verify_timeout = "30", verify_min_saving = "10";
  bool verify_same_db = false;
};

// A whole number in [lo, hi], or nullopt.
std::optional<long> whole_number(const std::string& s, long lo, long hi) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end || errno || v < lo || v > hi) return std::nullopt;
  return v;
}

std::optional<double> decimal(const std::string& s, double lo, double hi) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end || !(v >= lo && v <= hi)) return std::nullopt;
  return v;
}

// --fail-above PCT: after the report is written, exit status 3 when a recommended index would save
// more than PCT% of the workload's estimated cost, so a CI job over a test suite's log catches a
// missing index before production does. Each such index is named on stderr.
int fail_above(const advisor::Advice& a, std::optional<double> pct) {
  if (!pct) return 0;
  int over = 0;
  for (const auto& r : a.recommendations) {
    if (r.benefit_pct <= *pct) continue;
    ++over;
    std::fprintf(stderr, "pgopt analyze: --fail-above %g: %s would save %.1f%% of the workload's cost\n", *pct,
                 r.ddl.c_str(), r.benefit_pct);
  }
  return over ? 3 : 0;
}

struct Conn {
  PGconn* c = nullptr;
  ~Conn() {
    if (c) PQfinish(c);
  }
};

// The advisor's stages on one terminal line, redrawn in place (cleared when the report is ready):
// "costing statements" (each group without new indexes), then one "choosing index N" per round of
// the search, whose bar fills as it costs the moves whose bound could beat the best found.
void progress_line(const std::string& stage, size_t done, size_t total) {
  static std::string last;
  int pct = total ? int(100 * std::min(done, total) / total) : 0;
  std::string line = "\r" + stage + " [" + std::string(size_t(pct / 5), '#') + std::string(size_t(20 - pct / 5), ' ') +
                     "] " + std::to_string(pct) + "%\033[K";
  if (line == last) return;
  last = line;
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

// --jobs N with HypoPG: N - 1 more connections, each its own backend with its own hypothetical
// indexes, so the search costs independent moves at the same time. A connection that fails only
// costs parallelism.
struct WhatIfWorkers {
  std::vector<std::unique_ptr<Conn>> conns;
  std::vector<std::unique_ptr<advisor::Evaluator>> evaluators;
};

void open_workers(const std::string& db, long jobs, WhatIfWorkers& out, advisor::AdvisorOptions& ao) {
  for (long i = 1; i < jobs; ++i) {
    auto c = std::make_unique<Conn>();
    c->c = PQconnectdb(db.c_str());
    if (PQstatus(c->c) != CONNECTION_OK) return;
    auto e = advisor::make_hypopg(c->c);
    if (!e) return;
    ao.parallel.push_back(e.get());
    out.evaluators.push_back(std::move(e));
    out.conns.push_back(std::move(c));
  }
}

// Logs, and files ending in .sql read as plain statements (one per `;`).
int read_inputs(const std::vector<std::string>& files, const InputOptions& in, Workload& workload) {
  std::vector<std::string> logs, scripts;
  for (const auto& f : files) (f.size() > 4 && f.compare(f.size() - 4, 4, ".sql") == 0 ? scripts : logs).push_back(f);
  if (!logs.empty()) {
    InputResult r = read_logs(logs, in);
    for (const auto& e : r.errors) std::fprintf(stderr, "pgopt analyze: %s\n", e.c_str());
    if (!r.errors.empty()) return 1;
    workload = std::move(r.workload);
  }
  for (const auto& s : scripts) {
    InputResult r = read_sql_file(s, in);
    for (const auto& e : r.errors) std::fprintf(stderr, "pgopt analyze: %s\n", e.c_str());
    if (!r.errors.empty()) return 1;
    merge(workload, r.workload, in);
  }
  return 0;
}

// Logs, pg_stat_statements and capture files into one workload; non-zero on a read error.
int read_workload(const Options& o, PGconn* conn, const InputOptions& in, Workload& workload) {
  if (int rc = read_inputs(o.logs, in, workload)) return rc;
  if (o.pg_stat_statements) {
    InputResult r = read_pg_stat_statements(o.db, in);
    for (const auto& e : r.errors) std::fprintf(stderr, "pgopt analyze: %s\n", e.c_str());
    if (!r.errors.empty()) return 1;
    if (o.logs.empty()) {
      workload = std::move(r.workload);
    } else {
      merge(workload, r.workload, in);
    }
  }
  if (!o.captures.empty()) {
    // With --db, only the entries for the database the catalog comes from (its name on the
    // server, defaults and PGDATABASE applied by libpq): another database's table of the same
    // name is a different table.
    std::optional<std::string> dbname;
    if (conn) dbname = PQdb(conn);
    InputResult r = read_captures(o.captures, dbname, in);
    for (const auto& e : r.errors) std::fprintf(stderr, "pgopt analyze: %s\n", e.c_str());
    if (!r.errors.empty()) return 1;
    if (o.logs.empty() && !o.pg_stat_statements) {
      workload = std::move(r.workload);
    } else {
      merge_capture(workload, r.workload, in);
    }
  }
  return 0;
}

// The catalog from --db (connecting `conn`) or --schema; an error message, or empty.
std::string load_catalog_of(const Options& o, Conn& conn, advisor::Catalog& catalog) {
  if (!o.db.empty()) {
    conn.c = PQconnectdb(o.db.c_str());
    if (PQstatus(conn.c) != CONNECTION_OK) {
      std::string m = PQerrorMessage(conn.c);
      while (!m.empty() && m.back() == '\n') m.pop_back();
      return "--db: " + m;
    }
    advisor::CatalogLoad load = advisor::load_catalog(conn.c);
    if (!load.error.empty()) return "--db: " + load.error;
    catalog = std::move(load.catalog);
  } else {
    std::ifstream f(o.schema);
    if (!f) return "--schema: cannot read " + o.schema;
    std::stringstream ss;
    ss << f.rdbuf();
    sql::SchemaDefinition def = sql::parse_schema(ss.str());
    for (const auto& e : def.errors) std::fprintf(stderr, "%s:%s (statement skipped)\n", o.schema.c_str(), e.substr(5).c_str());
    if (def.tables.empty()) return "--schema: no CREATE TABLE found in " + o.schema;
    catalog = advisor::catalog_from_schema(def);
  }

  return "";
}

// The report to stdout or --output; false when it could not be written.
bool write_report(const Options& o, const std::string& text) {
  if (o.output.empty() || o.output == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  } else {
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto st = fs::status(o.output, ec);
    if (fs::exists(st) && !fs::is_regular_file(st)) {
      // A device, FIFO or socket (/dev/null, a pipe): write into it. Renaming over it would replace
      // the node itself with a plain file (as root, /dev/null for the whole machine).
      std::ofstream f(o.output, std::ios::binary);
      f << text;
      f.close();
      return bool(f);
    }
    // A regular file (or none yet): write beside it and rename, so a failed run never leaves half a
    // report. Through a symlink, the file it points to is replaced, not the link.
    const std::string target = fs::is_symlink(fs::symlink_status(o.output, ec)) ? fs::canonical(o.output, ec).string()
                                                                               : o.output;
    std::string tmp = target + ".tmp";
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << text;
    f.close();
    if (!f || target.empty() || std::rename(tmp.c_str(), target.c_str()) != 0) {
      std::remove(tmp.c_str());
      return false;
    }
  }
  return true;
}

// --verify's options; an error message, or empty.
std::string verify_options(const Options& o, advisor::VerifyOptions& vo) {
  auto timeout = decimal(o.verify_timeout, 0.001, 86400);
  if (!timeout) return "--verify-timeout must be a number of seconds, not '" + o.verify_timeout + "'";
  auto min_saving = decimal(o.verify_min_saving, 0, 100);
  if (!min_saving) return "--verify-min-saving must be a percentage between 0 and 100, not '" + o.verify_min_saving + "'";
  if (o.verify_same_db && o.verify.empty()) return "--verify-same-db needs --verify CONNINFO";
  vo.dsn = o.verify;
  vo.same_db_ok = o.verify_same_db;
  vo.timeout_ms = int(*timeout * 1000);
  vo.rules.min_saving_pct = *min_saving;
  return "";
}

int run(const Options& o) {
  auto fail = [](const std::string& msg, int code) {
    std::fprintf(stderr, "pgopt analyze: %s\n", msg.c_str());
    return code;
  };
  if (o.logs.empty() && !o.pg_stat_statements && o.captures.empty())
    return fail("give log files (or - for stdin), --capture FILE (written by pgopt pool), or --pg-stat-statements", 2);
  if (o.pg_stat_statements && o.db.empty()) return fail("--pg-stat-statements needs --db", 2);
  if (o.db.empty() && o.schema.empty())
    return fail("give --db CONNINFO (statistics, HypoPG) or --schema FILE.sql (tables and indexes)", 2);
  if (o.format != "markdown" && o.format != "html" && o.format != "json" && o.format != "sql")
    return fail("--format must be markdown, html, json or sql, not '" + o.format + "'", 2);
  if (o.log_format != "auto" && o.log_format != "stderr" && o.log_format != "csvlog" && o.log_format != "jsonlog")
    return fail("--log-format must be auto, stderr, csvlog or jsonlog, not '" + o.log_format + "'", 2);
  advisor::AdvisorOptions ao;
  if (!o.budget.empty() && !report::parse_size(o.budget, ao.selection.budget_bytes))
    return fail("--budget: not a size: '" + o.budget + "' (examples: 2GB, 500MB)", 2);
  auto min_improvement = decimal(o.min_improvement, 0, 100);
  if (!min_improvement)
    return fail("--min-improvement must be a percentage between 0 and 100, not '" + o.min_improvement + "'", 2);
  auto consolidate = decimal(o.consolidate, 0, 100);
  if (!consolidate) return fail("--consolidate must be a percentage between 0 and 100, not '" + o.consolidate + "'", 2);
  auto max_indexes = whole_number(o.max_indexes, 1, 100000);
  if (!max_indexes) return fail("--max-indexes must be a whole number of at least 1, not '" + o.max_indexes + "'", 2);
  auto jobs = whole_number(o.jobs, 1, 256);
  if (!jobs) return fail("--jobs must be a whole number from 1 to 256, not '" + o.jobs + "'", 2);
  std::optional<double> fail_pct;
  if (!o.fail_above.empty() && !(fail_pct = decimal(o.fail_above, 0, 100)))
    return fail("--fail-above must be a percentage between 0 and 100, not '" + o.fail_above + "'", 2);
  advisor::VerifyOptions vo;
  if (std::string error = verify_options(o, vo); !error.empty()) return fail(error, 2);
  ao.selection.max_indexes = size_t(*max_indexes);
  ao.selection.min_improvement_pct = *min_improvement;
  ao.selection.consolidate_pct = *consolidate;
  ao.show_samples = o.show_samples;
  bool tty = isatty(STDERR_FILENO);
  if (tty) ao.progress = progress_line;

  // The catalog first: a bad --db or --schema fails before a long log has been read.
  advisor::Catalog catalog;
  Conn conn;
  std::vector<std::string> notes;
  if (std::string error = load_catalog_of(o, conn, catalog); !error.empty()) return fail(error, 1);

  InputOptions in;
  in.log_format = o.log_format;
  in.log_line_prefix = o.log_line_prefix;
  in.jobs = int(*jobs);
  in.progress = tty;
  // Another database's statements name other tables (or same-named ones that are not these): with
  // --db, log lines naming another database (%d, csvlog/jsonlog's own field) are left out.
  if (conn.c) in.database = PQdb(conn.c);
  Workload workload;
  if (int rc = read_workload(o, conn.c, in, workload)) return rc;

  if (workload.groups.empty()) {
    std::string why = std::to_string(workload.unparsable_lines) + " lines matched no log format";
    if (workload.other_database_entries)
      why += ", " + std::to_string(workload.other_database_entries) + " entries were of other databases than " + in.database;
    return fail("nothing usable was read (" + why + "); check --log-format, or give a .sql file of statements", 1);
  }

  std::unique_ptr<advisor::Evaluator> evaluator;
  if (conn.c) {
    evaluator = advisor::make_hypopg(conn.c);
    if (!evaluator)
      notes.push_back("HypoPG is not installed in this database (CREATE EXTENSION hypopg): costs come from pgopt's "
                      "cost model instead of the planner");
  }
  WhatIfWorkers workers;
  if (evaluator) open_workers(o.db, *jobs, workers, ao);
  if (!evaluator) evaluator = advisor::make_cost_model(catalog);

  advisor::Advice advice = advisor::advise(workload, catalog, *evaluator, ao);
  if (tty) std::fputs("\r\033[K", stderr);
  if (!o.verify.empty()) {
    if (tty) vo.progress = progress_line;
    advisor::VerifyOutcome v = advisor::verify(advice, workload, catalog, conn.c, vo);
    if (tty) std::fputs("\r\033[K", stderr);
    if (!v.error.empty()) return fail(v.error, v.usage_error ? 2 : 1);
    if (v.signal) return fail("interrupted; every index --verify built was dropped", 128 + v.signal);
  }
  for (auto& n : workload.notes) advice.notes.insert(advice.notes.begin(), n);
  if (workload.other_database_entries)
    advice.notes.push_back(std::to_string(workload.other_database_entries) + " log entries of other databases than " +
                           in.database + " were left out");
  for (auto& n : notes) advice.notes.insert(advice.notes.begin(), n);

  std::string text = o.format == "json"   ? report::render_json(advice)
                     : o.format == "html" ? report::render_html(advice)
                     : o.format == "sql"  ? report::render_sql(advice)
                                          : report::render_markdown(advice);
  if (!write_report(o, text)) return fail("--output: cannot write " + o.output, 1);
  return fail_above(advice, fail_pct);
}

}  // namespace

void register_analyze_cli(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "analyze", "Recommend indexes and partitioning from PostgreSQL logs, pg_stat_statements or a pgopt pool capture");
  cmd->add_option("LOG", opts->logs, "Log files, globs, or - for stdin (.gz and .zst are read directly)");
  cmd->add_option("--db", opts->db, "Live database: schema, statistics, existing indexes, HypoPG what-if costs");
  cmd->add_option("--schema", opts->schema, "Offline alternative: table and index DDL, no statistics");
  cmd->add_flag("--pg-stat-statements", opts->pg_stat_statements, "Read the workload from pg_stat_statements on --db");
  // One file per --capture (repeatable), so a LOG after it stays a LOG.
  cmd->add_option("--capture", opts->captures,
                  "Workload capture file written by pgopt pool (capture_file); repeatable; with --db, only the "
                  "entries of that database")
      ->type_name("FILE")
      ->allow_extra_args(false);
  cmd->add_option("--log-format", opts->log_format, "auto|stderr|csvlog|jsonlog");
  cmd->add_option("--log-line-prefix", opts->log_line_prefix, "log_line_prefix of stderr logs (default: detect)");
  cmd->add_option("--format", opts->format, "markdown|html|json|sql (default markdown)");
  cmd->add_option("--output,-o", opts->output, "Output file (default stdout)");
  cmd->add_option("--budget", opts->budget, "Total size of new indexes, e.g. 2GB");
  cmd->add_option("--max-indexes", opts->max_indexes, "At most this many new indexes (default 20)");
  cmd->add_option("--min-improvement", opts->min_improvement,
                  "Stop when the next index saves less than this percentage of the current workload cost (default 0.3)");
  cmd->add_option("--consolidate", opts->consolidate,
                  "Of two new indexes with the same leading column, keep the one that matters less only if it saves this "
                  "percentage of the workload cost (default 1; 0 keeps both)");
  cmd->add_option("--jobs,-j", opts->jobs, "Parallel log readers and HypoPG connections (default 1)");
  cmd->add_flag("--show-samples", opts->show_samples, "Include real statements with literals in the report");
  cmd->add_option("--fail-above", opts->fail_above,
                  "Exit with status 3 (after writing the report) when a recommended index would save more than this "
                  "percentage of the workload's cost: for CI");
  cmd->add_option("--verify", opts->verify,
                  "Staging database (CONNINFO) on which each recommended index is built for real, its statements timed "
                  "before and after with EXPLAIN ANALYZE, and the index dropped again; recommendations the planner "
                  "does not use or that save too little measured time are dropped")
      ->type_name("CONNINFO");
  cmd->add_flag("--verify-same-db", opts->verify_same_db,
                "Allow --verify to build its trial indexes on the --db database itself");
  cmd->add_option("--verify-timeout", opts->verify_timeout, "statement_timeout of each timed statement in seconds (default 30)");
  cmd->add_option("--verify-min-saving", opts->verify_min_saving,
                  "Drop a recommendation whose statements' measured time falls by less than this percentage (default 10)");
  cmd->callback([opts] { g_exit = run(*opts); });
}

int analyze_cli_exit_code() { return g_exit; }

}  // namespace pgopt::app
