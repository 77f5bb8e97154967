// The --verify runner (see verify.hpp): libpq, signals and the order of work. What the numbers mean
// for a recommendation is decided in verify_decision.cpp.
#include "analyzer/advisor/verify.hpp"

#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <set>

#include "analyzer/advisor/index_ddl.hpp"

namespace pgopt::analyzer::advisor {
namespace {

// SIGINT/SIGTERM while verifying: remember it and cancel the statement the server is running (a
// CREATE INDEX CONCURRENTLY can wait for minutes), so the loop sees the flag at once and drops what
// it built. PQcancel is safe in a signal handler; the pointer is swapped atomically around it.
volatile std::sig_atomic_t g_signal = 0;
std::atomic<PGcancel*> g_cancel{nullptr};

void on_signal(int sig) {
  g_signal = sig;
  if (PGcancel* c = g_cancel.load()) {
    char buf[128];
    PQcancel(c, buf, sizeof buf);
  }
}

struct SignalGuard {
  struct sigaction old_int {}, old_term {};
  explicit SignalGuard(PGconn* conn) {
    g_signal = 0;
    g_cancel.store(PQgetCancel(conn));
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
  }
  // Cleanup runs after this: a second Ctrl-C must not cancel the DROPs.
  void disarm() {
    if (PGcancel* c = g_cancel.exchange(nullptr)) PQfreeCancel(c);
  }
  ~SignalGuard() {
    disarm();
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
  }
};

struct Result {
  bool ok = false;
  std::string sqlstate, error;
  std::vector<std::string> rows;  // first column
};

Result exec(PGconn* c, const std::string& sql) {
  Result out;
  PGresult* r = PQexec(c, own_tagged(sql).c_str());
  auto st = PQresultStatus(r);
  out.ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
  if (!out.ok) {
    const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    out.sqlstate = s ? s : "";
    out.error = PQerrorMessage(c);
    while (!out.error.empty() && (out.error.back() == '\n' || out.error.back() == ' ')) out.error.pop_back();
  } else if (st == PGRES_TUPLES_OK) {
    for (int i = 0; i < PQntuples(r); ++i) out.rows.emplace_back(PQgetisnull(r, i, 0) ? "" : PQgetvalue(r, i, 0));
  }
  PQclear(r);
  return out;
}

// The database a connection is on: its name and the server's start time and system identifier
// (a restored copy shares the identifier, never the start time).
std::string identity(PGconn* c) {
  Result r = exec(c, "SELECT current_database() || '/' || pg_postmaster_start_time()::text || '/' || current_setting('port')");
  std::string id = r.rows.empty() ? "" : r.rows[0];
  Result sys = exec(c, "SELECT system_identifier::text FROM pg_control_system()");
  if (!sys.rows.empty()) id += "/" + sys.rows[0];
  return id;
}

// Drops every index named with kVerifyPrefix, partitioned ones first (their partitions' indexes go
// with them); the number dropped.
size_t drop_ours(PGconn* c, std::string* error) {
  Result found = exec(c, std::string("SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n "
                                     "ON n.oid = c.relnamespace WHERE c.relkind IN ('i', 'I') AND c.relname LIKE '") +
                             kVerifyPrefix + "%' ORDER BY c.relkind = 'i'");
  size_t dropped = 0;
  for (const auto& name : found.rows) {
    Result r = exec(c, "DROP INDEX IF EXISTS " + name);
    if (r.ok) ++dropped;
    else if (error) *error = r.error;
  }
  return dropped;
}

struct Timed {
  ExplainRun run;
  bool timed_out = false;
  std::string error;
};

// One sampled statement under EXPLAIN ANALYZE in a transaction that is rolled back (a sampled
// INSERT/UPDATE/DELETE really runs), under the statement timeout and the logged search_path.
Timed time_once(PGconn* c, const std::string& sample, const std::string& search_path, int timeout_ms) {
  Timed t;
  exec(c, "BEGIN");
  exec(c, "SET LOCAL statement_timeout = " + std::to_string(timeout_ms));
  if (!search_path.empty()) exec(c, "SET LOCAL search_path TO " + search_path);
  Result r = exec(c, "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sample);
  exec(c, "ROLLBACK");
  if (r.ok && !r.rows.empty()) t.run = parse_explain_json(r.rows[0]);
  t.timed_out = r.sqlstate == "57014" && !g_signal;
  if (!r.ok && !t.timed_out) t.error = r.error;
  return t;
}

// Warm-up, then the best of `runs`: the first run reads the pages into the cache either way.
Timed time_best(PGconn* c, const std::string& sample, const std::string& search_path, const VerifyOptions& o) {
  Timed best = time_once(c, sample, search_path, o.timeout_ms);
  if (!best.run.ok) return best;
  for (int i = 0; i < o.runs && !g_signal; ++i) {
    Timed t = time_once(c, sample, search_path, o.timeout_ms);
    if (t.run.ok && t.run.ms < best.run.ms) best = t;
  }
  return best;
}

struct Trial {
  const Recommendation& rec;
  const Workload& workload;
  const Catalog& catalog;
  const VerifyOptions& options;
  size_t number, total;  // 1-based, for progress
};

std::vector<std::string> samples_of(const QueryGroup& g, size_t n) {
  return std::vector<std::string>(g.samples.begin(), g.samples.begin() + long(std::min(n, g.samples.size())));
}

// Times every sample of every group `t` serves; `after` fills the after side.
void time_groups(PGconn* c, const Trial& t, Measured& m, bool after) {
  size_t done = 0, total = 0;
  for (const auto& g : t.rec.groups)
    if (auto it = t.workload.groups.find(g.fingerprint); it != t.workload.groups.end())
      total += samples_of(it->second, t.options.samples_per_group).size();
  std::string stage = "verifying index " + std::to_string(t.number) + " of " + std::to_string(t.total) +
                      (after ? ": with it" : ": without it");
  for (size_t gi = 0; gi < t.rec.groups.size() && !g_signal; ++gi) {
    auto it = t.workload.groups.find(t.rec.groups[gi].fingerprint);
    if (it == t.workload.groups.end()) continue;
    GroupMeasure& gm = m.groups[gi];
    size_t ok = 0;
    double ms = 0, buffers = 0;
    for (const auto& s : samples_of(it->second, t.options.samples_per_group)) {
      if (g_signal) return;
      if (t.options.progress) t.options.progress(stage, done++, total);
      Timed r = time_best(c, s, it->second.search_path, t.options);
      if (!r.error.empty()) m.error = r.error;
      if (r.timed_out) (after ? gm.after_timed_out : gm.before_timed_out) = true;
      if (!r.run.ok && !r.timed_out) continue;
      ++ok;
      ms += r.timed_out ? t.options.timeout_ms : r.run.ms;
      buffers += r.run.shared_hit + r.run.shared_read;
      if (after) {
        bool used = false;
        for (const auto& name : r.run.indexes) used = used || name.rfind(kVerifyPrefix, 0) == 0;
        gm.used += used ? 1 : 0;
      }
    }
    if (!ok) continue;
    (after ? gm.after_ms : gm.before_ms) = ms / double(ok);
    (after ? gm.after_buffers : gm.before_buffers) = buffers / double(ok);
    gm.statements = after ? std::min(gm.statements, ok) : ok;
  }
}

// Builds the trial index (the report's own DDL, under kVerifyPrefix names).
bool build(PGconn* c, const Trial& t, Measured& m) {
  std::set<std::string> taken;
  std::string name = prefixed_index_name(kVerifyPrefix, t.rec.index.suggested_name());
  taken.insert(t.rec.index.schema + "." + name);
  if (t.options.progress) t.options.progress("verifying index " + std::to_string(t.number) + " of " +
                                             std::to_string(t.total) + ": building it", 0, 1);
  auto start = std::chrono::steady_clock::now();
  for (const auto& statement : index_build_statements(t.rec.index, name, t.catalog, taken, kVerifyPrefix)) {
    Result r = g_signal ? Result{} : exec(c, statement);
    if (!r.ok) {
      m.error = g_signal ? "interrupted" : "could not build it on the staging database: " + r.error;
      return false;
    }
  }
  m.build_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  Result size = exec(c, std::string("SELECT coalesce(sum(pg_relation_size(oid)), 0) FROM pg_class WHERE relkind = 'i' "
                                    "AND relname LIKE '") + kVerifyPrefix + "%'");
  if (!size.rows.empty()) m.real_bytes = std::strtod(size.rows[0].c_str(), nullptr);
  return true;
}

Measured trial(PGconn* c, const Trial& t) {
  Measured m;
  for (const auto& g : t.rec.groups) m.groups.push_back({g.fingerprint, g.calls});
  time_groups(c, t, m, false);
  if (!g_signal) m.built = build(c, t, m);
  if (m.built && !g_signal) time_groups(c, t, m, true);
  std::string drop_error;
  drop_ours(c, &drop_error);
  if (!drop_error.empty()) m.error = "could not drop the trial index: " + drop_error;
  decide(m, t.options.rules);
  return m;
}

}  // namespace

VerifyOutcome verify(Advice& adv, const Workload& workload, const Catalog& catalog, PGconn* source,
                     const VerifyOptions& options) {
  VerifyOutcome out;
  PGconn* c = PQconnectdb(options.dsn.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    out.error = std::string("--verify: ") + PQerrorMessage(c);
    while (!out.error.empty() && out.error.back() == '\n') out.error.pop_back();
    PQfinish(c);
    return out;
  }
  // The server's NOTICEs (DROP INDEX IF EXISTS of a partition's index its parent's drop already
  // took) would reach stderr between the report's lines: nothing in them is for the user.
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
  if (source && !options.same_db_ok && identity(c) == identity(source)) {
    out.error = "--verify names the --db database itself: it builds indexes for real, so give a staging copy, or "
                "add --verify-same-db to build them there on purpose";
    out.usage_error = true;
    PQfinish(c);
    return out;
  }
  adv.verified_on = std::string(PQdb(c)) + " on " + (PQhost(c) ? PQhost(c) : "local") + ":" + PQport(c);
  SignalGuard guard(c);
  out.leftovers = drop_ours(c, nullptr);
  std::vector<Measured> measured;
  std::vector<GinTrial> gins = gin_trials(adv);
  const size_t n = adv.recommendations.size(), total = n + gins.size();
  std::vector<std::optional<Measured>> alternatives(n);
  for (size_t i = 0; i < n && !g_signal; ++i) {
    const Recommendation& r = adv.recommendations[i];
    measured.push_back(trial(c, {r, workload, catalog, options, i + 1, total}));
    if (!r.alternative || g_signal) continue;
    Recommendation probe = r;  // the BRIN (or B-tree) the estimates did not choose, on the same groups
    probe.index = *r.alternative;
    alternatives[i] = trial(c, {probe, workload, catalog, options, i + 1, total});
  }
  // GIN indexes HypoPG cannot cost: the same trial, on the statement groups left unserved.
  for (size_t i = 0; i < gins.size() && !g_signal; ++i) {
    Recommendation probe;
    probe.index = gins[i].index;
    for (const auto& [fp, calls] : gins[i].groups) probe.groups.push_back({fp, calls, 0, 0});
    gins[i].measured = trial(c, {probe, workload, catalog, options, n + i + 1, total});
  }
  guard.disarm();
  if (g_signal) {
    // The trial interrupted may have left an invalid index (a cancelled CONCURRENTLY build).
    drop_ours(c, nullptr);
    out.signal = g_signal;
  } else {
    for (size_t i = 0; i < n && i < measured.size(); ++i) adv.recommendations[i].measured = measured[i];
    apply_alternatives(adv, alternatives, catalog);
    for (size_t i = 0; i < n && i < measured.size(); ++i) measured[i] = *adv.recommendations[i].measured;
    apply_verification(adv, std::move(measured));
    apply_gin_verification(adv, std::move(gins), catalog);
    if (out.leftovers)
      adv.notes.push_back("--verify dropped " + std::to_string(out.leftovers) + " " + kVerifyPrefix +
                          " indexes an earlier, interrupted run had left on " + adv.verified_on);
  }
  PQfinish(c);
  return out;
}

}  // namespace pgopt::analyzer::advisor
