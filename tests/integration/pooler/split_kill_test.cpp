// Read/write splitting when the replica dies under load (issue 5): pgbench -S through the pooler
// while the replica is stopped with -m immediate and started again; no client may see an error.
#include "split_harness.hpp"

namespace pgopt::test {
namespace {

using namespace std::chrono_literals;
using split::replica_port;

std::string pg_bin(const std::string& program) { return ClusterEnv::instance().get("PGOPT_PG_BIN") + "/" + program; }

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A child process with its output in a file; killed by its PID if the test leaves before it ends.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::filesystem::path& log) : log_(log) {
    std::vector<char*> cargv;
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int in = ::open("/dev/null", O_RDONLY);
      ::dup2(in, 0);
      ::dup2(out, 1);
      ::dup2(out, 2);
      ::execv(cargv[0], cargv.data());
      ::_exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // The exit status, or -1 if it was still running at `deadline` (it is killed then).
  int wait(std::chrono::steady_clock::time_point deadline) {
    if (pid_ <= 0) return -1;
    int st = 0;
    const auto patience = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (poll_until([&] { return ::waitpid(pid_, &st, WNOHANG) == pid_; }, std::max(patience, 0ms), 50ms)) {
      pid_ = -1;
      return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
    return -1;
  }
  std::string output() const { return slurp(log_); }

 private:
  pid_t pid_ = -1;
  std::filesystem::path log_;
};

// Client backends of pgopt_test on the replica other than this query's own: the pooler's.
int replica_backends() {
  Conn r = split::replica_direct("postgres");
  return std::atoi(value(r.get(),
                         "SELECT count(*) FROM pg_stat_activity WHERE datname = 'pgopt_test' "
                         "AND backend_type = 'client backend' AND pid <> pg_backend_pid()")
                       .c_str());
}

class SplitKill : public split::ReplicaFixture {};

TEST_F(SplitKill, ReplicaStoppedUnderPgbenchLosesNoTransaction) {
  // pgbench's tables, written on the primary and replayed before the run.
  {
    int status = std::system((pg_bin("pgbench") + " -i -q -s 1 -h 127.0.0.1 -p " +
                              std::to_string(split::primary_port()) + " -U postgres pgopt_test >/dev/null 2>&1")
                                 .c_str());
    ASSERT_EQ(status, 0) << "pgbench -i failed";
    ASSERT_TRUE(split::replica_caught_up());
  }
  split::SplitConfig cfg;
  cfg.ban_time = "1s";
  cfg.pool_size = 8;
  Pooler p(split::options(cfg));
  {
    Conn c = connect_ok(p.conninfo());
    ASSERT_TRUE(split::reads_reach_replica(c.get())) << p.log();
  }

  const auto started = std::chrono::steady_clock::now();
  Child bench({pg_bin("pgbench"), "-n", "-S", "-c", "8", "-j", "2", "-T", "12", "-h", "127.0.0.1", "-p",
               std::to_string(p.port), "-U", "postgres", "pgopt_test"},
              p.dir() / "pgbench.out");
  // pgbench's reads are on the replica, so stopping it breaks connections that are in use.
  EXPECT_TRUE(eventually([] { return replica_backends() > 0; }, 5s)) << "pgbench's reads did not reach the replica";
  ASSERT_EQ(ClusterEnv::instance().cluster("pgctl " + split::cluster_dir() + " replica stop -m immediate -w >/dev/null"), 0);
  const auto down = std::chrono::steady_clock::now();
  ASSERT_FALSE(port_open(replica_port()));
  // time must pass: the replica stays down 3 s, past ban_time (1 s), so the ban ends and reconnects fail again
  std::this_thread::sleep_until(down + 3s);
  ASSERT_EQ(ClusterEnv::instance().cluster("pgctl " + split::cluster_dir() + " replica start -w -t 60 >/dev/null"), 0);

  int status = bench.wait(started + 60s);
  std::string out = bench.output();
  EXPECT_EQ(status, 0) << out << "\n" << p.log();
  EXPECT_NE(out.find("number of failed transactions: 0"), std::string::npos) << out;
  EXPECT_EQ(out.find("aborted"), std::string::npos) << out;
  EXPECT_NE(out.find("number of transactions actually processed:"), std::string::npos) << out;

  // Back on the replica once its ban is over and a poll sees it replaying.
  Conn c = connect_ok(p.conninfo());
  EXPECT_TRUE(split::reads_reach_replica(c.get(), 20s)) << p.log();
  EXPECT_TRUE(p.running());
}

}  // namespace
}  // namespace pgopt::test
