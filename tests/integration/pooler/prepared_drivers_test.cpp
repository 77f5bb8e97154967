// Real drivers that prepare statements on their own (issue 4), 20 clients each with results checked:
// directly against PostgreSQL, through pgopt in session mode, and in transaction mode on 2 servers.
#include "harness.hpp"
#include "programs.hpp"

#include <gmock/gmock.h>

#include <cctype>
#include <cstdlib>
#include <regex>

namespace pgopt::test {
namespace {

using ::testing::HasSubstr;
using namespace std::string_literals;

constexpr int kClients = 20;
constexpr int kIterations = 40;                         // per client; 800 transactions per run
constexpr int kProgramTimeoutS = 100;                   // every driver program gives up by itself...
constexpr auto kKillAfter = std::chrono::seconds(120);  // ...and the test kills it by PID after this
constexpr const char* kUser = "trust_user";
constexpr const char* kJdbcJar = "/usr/share/java/postgresql.jar";

enum class Target { Direct, Session, Transaction };

std::string target_name(Target t) {
  switch (t) {
    case Target::Direct: return "direct";
    case Target::Session: return "session";
    case Target::Transaction: return "transaction";
  }
  return "?";
}
void PrintTo(Target t, std::ostream* os) { *os << target_name(t); }

// The workload's arithmetic (drivers/workload.py): which preloaded row a client bumps, what it inserts.
int key(int c, int i) { return (c * 37 + i * 11) % 1000 + 1; }
// Checks of the warm-up statements that give statement names different meanings per client.
long warmup_checks() {
  long n = 0;
  for (int c = 0; c < kClients; ++c) n += c % 3;
  return n;
}

// Prepared-statement errors PostgreSQL logged for our user. Drivers can hide them (pgJDBC catches
// 26000, re-prepares under new names and retries), so the client's view alone proves too little.
struct ServerErrors {
  long does_not_exist = 0, already_exists = 0;
  std::string examples;
};

class ServerLog {
 public:
  ServerLog() : path_(ClusterEnv::instance().get("PGOPT_DATA_DIR") + "/primary.log") {
    std::error_code ec;
    start_ = std::filesystem::file_size(path_, ec);
    readable_ = !ec && std::ifstream(path_).good();
  }
  ServerErrors since_start() const {
    ServerErrors e;
    std::ifstream in(path_);
    in.seekg(std::streamoff(start_));
    std::string line;
    while (std::getline(in, line)) {
      if (line.find(std::string(" ") + kUser + "@pgopt_test ERROR:  prepared statement") == std::string::npos) continue;
      bool missing = line.find("does not exist") != std::string::npos;
      (missing ? e.does_not_exist : e.already_exists) += 1;
      if (e.does_not_exist + e.already_exists <= 5) e.examples += "\n  " + line;
    }
    return e;
  }
  bool readable() const { return readable_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  uintmax_t start_ = 0;
  bool readable_ = false;
};

class Driver : public ::testing::TestWithParam<Target> {
 protected:
  void SetUp() override {
    // "Asyncpg/transaction" -> prep_asyncpg_transaction: one table per test, never shared.
    table_ = "prep_";
    for (char ch : std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()))
      table_ += std::isalnum(static_cast<unsigned char>(ch)) ? char(std::tolower(static_cast<unsigned char>(ch))) : '_';
    work_ = std::filesystem::temp_directory_path() / ("pgopt-drivers-" + std::to_string(::getpid()) + "-" + table_);
    std::filesystem::create_directories(work_);

    Conn d = direct("pgopt_test", kUser);
    ok(d.get(), "SET client_min_messages = warning");
    ok(d.get(), "DROP TABLE IF EXISTS " + table_);
    ok(d.get(), "CREATE TABLE " + table_ +
                    " (id int PRIMARY KEY, val text NOT NULL, n bigint NOT NULL, hits int NOT NULL DEFAULT 0)");
    ok(d.get(), "INSERT INTO " + table_ + " (id, val, n) SELECT g, 'v' || g, 7 * g FROM generate_series(1, 1000) g");

    server_log_ = std::make_unique<ServerLog>();
    ASSERT_TRUE(server_log_->readable()) << "cannot read the server log " << server_log_->path();
    port_ = ClusterEnv::instance().primary_port;
    if (GetParam() != Target::Direct) {
      PoolerOptions o;
      o.pool_mode = target_name(GetParam());
      // Session mode pins a server per client, so it gets one per client; transaction mode shares 2.
      o.pool_size = GetParam() == Target::Transaction ? 2 : kClients;
      pooler_ = std::make_unique<Pooler>(o);
      ASSERT_TRUE(pooler_->running()) << pooler_->log();
      port_ = pooler_->port;
    }
  }

  void TearDown() override {
    if (table_.empty()) return;  // skipped before anything was made
    if (pooler_) {
      EXPECT_TRUE(pooler_->running()) << "pgopt died during the run; log: " << pooler_->log_path;
    }
    pooler_.reset();
    Conn d = direct("pgopt_test", kUser);
    ok(d.get(), "DROP TABLE IF EXISTS " + table_);
    if (!HasFailure()) std::filesystem::remove_all(work_);  // kept for a look when something failed
  }

  // HOST PORT USER DB TABLE CLIENTS ITERATIONS: the command line every driver program takes.
  std::vector<std::string> workload_args() const {
    return {"127.0.0.1", std::to_string(port_), kUser, "pgopt_test", table_, std::to_string(kClients),
            std::to_string(kIterations)};
  }

  std::vector<std::string> python_driver(const std::string& script) const {
    std::vector<std::string> a{python(), (drivers_dir() / script).string()};
    for (auto& s : workload_args()) a.push_back(s);
    a.insert(a.end(), {"--timeout", std::to_string(kProgramTimeoutS)});
    return a;
  }

  ProgramRun run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {}) {
    return run_program(argv, env, work_ / "driver.log", kKillAfter);
  }

  std::string where() const {
    return "\nthrough " + target_name(GetParam()) + (pooler_ ? " (pgopt log: " + pooler_->log_path + ")" : "");
  }

  // No Bind, Describe or Execute reached a server lacking its statement, and no Parse collided
  // with another client's name, except `missing_allowed` that the driver asked for on purpose.
  void expect_no_server_errors(long missing_allowed) {
    ServerErrors e = server_log_->since_start();
    EXPECT_EQ(e.already_exists, 0) << "\"already exists\" errors in " << server_log_->path() << ":" << e.examples;
    EXPECT_LE(e.does_not_exist, missing_allowed)
        << "\"does not exist\" errors in " << server_log_->path() << ", e.g.:" << e.examples << where();
  }

  // What a driver program must report: checks per iteration and per client, whether it ran the
  // warm-up statements, and how many "does not exist" errors it provokes itself.
  struct Expected {
    long per_iteration = 5, per_client = 0;
    bool warmups = true;
    long missing_allowed = 0;
  };

  // The driver exited 0, its summary line counts every check and transaction we expect, the
  // server saw no prepared-statement errors, and in transaction mode some client's statements
  // really did run on both servers.
  void expect_verified(const ProgramRun& r, const Expected& x) {
    ASSERT_FALSE(r.timed_out) << tail(r.output) << where();
    ASSERT_EQ(r.status, 0) << tail(r.output) << where();
    static const std::regex summary(
        R"((\S+): verified (\d+) checks in (\d+) transactions; (\d+) of (\d+) clients moved between servers)");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.output, m, summary)) << tail(r.output);
    EXPECT_EQ(std::stol(m[2]),
              long(kClients) * kIterations * x.per_iteration + kClients * x.per_client + (x.warmups ? warmup_checks() : 0))
        << m[0];
    EXPECT_EQ(std::stol(m[3]), long(kClients) * kIterations) << m[0];
    EXPECT_EQ(std::stol(m[5]), kClients) << m[0];
    if (GetParam() == Target::Transaction)
      EXPECT_GE(std::stol(m[4]), 1) << "no client ever changed server, so nothing was proven: " << m[0];
    else
      EXPECT_EQ(std::stol(m[4]), 0) << "a client changed backend without transaction pooling: " << m[0];
    expect_no_server_errors(x.missing_allowed);
    expect_table(true);
  }

  // What the table holds afterwards, read directly from PostgreSQL: the preloaded rows unchanged,
  // one hit per transaction (on exactly the workload's keys when they are deterministic), and
  // (for the workload programs) every client's inserted rows.
  void expect_table(bool workload) {
    Conn d = direct("pgopt_test", kUser);
    const long txns = long(kClients) * kIterations;
    EXPECT_EQ(value(d.get(), "SELECT count(*) FROM " + table_ + " WHERE id <= 1000 AND val = 'v' || id AND n = 7 * id"),
              "1000");
    EXPECT_EQ(value(d.get(), "SELECT sum(hits) FROM " + table_), std::to_string(txns));
    if (!workload) {
      EXPECT_EQ(value(d.get(), "SELECT count(*) FROM " + table_ + " WHERE id > 1000"), "0");
      return;
    }
    std::map<int, int> hits;
    for (int c = 0; c < kClients; ++c)
      for (int i = 0; i < kIterations; ++i) ++hits[key(c, i)];
    std::string want;
    for (const auto& [k, h] : hits) want += (want.empty() ? "" : ",") + std::to_string(k) + ":" + std::to_string(h);
    EXPECT_EQ(value(d.get(), "SELECT string_agg(id || ':' || hits, ',' ORDER BY id) FROM " + table_ + " WHERE hits > 0"),
              want);
    // Client c's iteration i inserted id 1000000 + 10000 c + i, val 'c<c>-i<i>', n 1000 c + i.
    EXPECT_EQ(value(d.get(), "SELECT count(*) FILTER (WHERE val = 'c' || (id - 1000000) / 10000 || '-i' || "
                             "(id - 1000000) % 10000 AND n = (id - 1000000) / 10000 * 1000 + (id - 1000000) % 10000) "
                             "|| '/' || count(*) FROM " + table_ + " WHERE id > 1000"),
              std::to_string(txns) + "/" + std::to_string(txns));
  }

  std::string table_;
  std::filesystem::path work_;
  int port_ = 0;
  std::unique_ptr<ServerLog> server_log_;
  std::unique_ptr<Pooler> pooler_;
};

TEST_P(Driver, PgbenchPrepared) {
  std::ifstream in(drivers_dir() / "pgbench_prepared.sql");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string script = std::regex_replace(ss.str(), std::regex(R"(\{table\})"), table_);
  ASSERT_THAT(script, HasSubstr("UPDATE " + table_));
  std::ofstream(work_ / "pgbench.sql") << script;
  std::string pgbench = getenv_or("PGOPT_PG_BIN", ClusterEnv::instance().get("PGOPT_PG_BIN")) + "/pgbench";
  ProgramRun r = run({pgbench, "-n", "-M", "prepared", "-c", std::to_string(kClients), "-j", "2", "-t",
                      std::to_string(kIterations), "-f", (work_ / "pgbench.sql").string(), "-h", "127.0.0.1", "-p",
                      std::to_string(port_), "-U", kUser, "pgopt_test"},
                     {{"PGCONNECT_TIMEOUT", "30"}});
  ASSERT_FALSE(r.timed_out) << tail(r.output) << where();
  ASSERT_EQ(r.status, 0) << tail(r.output) << where();
  const std::string total = std::to_string(kClients * kIterations);
  for (const std::string& line : {"query mode: prepared"s, "number of transactions actually processed: " + total + "/" + total,
                                  "number of failed transactions: 0 (0.000%)"s})
    EXPECT_NE(r.output.find(line), std::string::npos) << "missing \"" << line << "\" in:\n" << tail(r.output, 2000);
  EXPECT_EQ(r.output.find("aborted"), std::string::npos) << tail(r.output, 2000);
  expect_no_server_errors(0);
  expect_table(false);
}

TEST_P(Driver, Asyncpg) { expect_verified(run(python_driver("asyncpg_prepared.py")), {.per_client = 1}); }

TEST_P(Driver, PsycopgPrepareThresholdZero) { expect_verified(run(python_driver("psycopg_prepared.py")), {}); }

TEST_P(Driver, PrismaStyleDeallocateAll) {
  // Each iteration executes its SELECT right after DEALLOCATE ALL and expects 26000, as PostgreSQL
  // answers; whether that probe reaches a server is the pooler's business.
  expect_verified(run(python_driver("prisma_style.py")),
                  {.per_iteration = 8, .warmups = false, .missing_allowed = long(kClients) * kIterations});
}

TEST_P(Driver, PgJdbcPrepareThresholdOne) {
  std::string javac = find_in_path("javac"), java = find_in_path("java");
  if (javac.empty() || java.empty()) GTEST_SKIP() << "no javac/java on PATH (Debian openjdk-17-jdk-headless)";
  ASSERT_TRUE(std::filesystem::exists(kJdbcJar)) << kJdbcJar << " missing: run scripts/setup.sh";
  auto classes = work_ / "classes";
  ProgramRun built = run_program({javac, "-d", classes.string(), "-cp", kJdbcJar,
                                  (drivers_dir() / "JdbcPrepared.java").string()},
                                 {}, work_ / "javac.log", kKillAfter);
  ASSERT_EQ(built.status, 0) << "javac: " << tail(built.output);
  // One GC thread and a quick JIT: two shared cores must also run PostgreSQL and pgopt.
  std::vector<std::string> a{java, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp",
                             classes.string() + ":" + kJdbcJar, "JdbcPrepared"};
  for (auto& s : workload_args()) a.push_back(s);
  a.push_back(std::to_string(kProgramTimeoutS));
  expect_verified(run(a), {.per_client = 2});
}

TEST_P(Driver, NodePostgresNamedQueries) {
  std::string node = find_in_path("node");
  ASSERT_FALSE(node.empty()) << "node is not installed: run scripts/setup.sh";
  auto modules = std::filesystem::path(getenv_or("PGOPT_NODE_PREFIX", "/opt/pgopt-node")) / "node_modules";
  ASSERT_TRUE(std::filesystem::exists(modules / "pg" / "package.json"))
      << "node-postgres is not installed in " << modules << ": run scripts/setup.sh";
  std::vector<std::string> a{node, (drivers_dir() / "node_prepared.js").string()};
  for (auto& s : workload_args()) a.push_back(s);
  a.push_back(std::to_string(kProgramTimeoutS));
  expect_verified(run(a, {{"NODE_PATH", modules.string()}}), {});
}

INSTANTIATE_TEST_SUITE_P(PreparedDrivers, Driver,
                         ::testing::Values(Target::Direct, Target::Session, Target::Transaction),
                         [](const ::testing::TestParamInfo<Target>& info) { return target_name(info.param); });

}  // namespace
}  // namespace pgopt::test
