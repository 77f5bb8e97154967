// `pgopt import-pgbouncer` round trip: one pgbouncer.ini and userlist.txt, PgBouncer started from
// them, pgopt started from the translation, the same queries through each give the same answers.
#include <pwd.h>

#include "harness.hpp"

namespace pgopt::test {
namespace {

constexpr const char* kPgbouncer = "/usr/sbin/pgbouncer";

// A child process (PgBouncer refuses to run as root: as root it runs as pgopt-test), stopped by PID.
struct Child {
  pid_t pid = -1;
  ~Child() { stop(); }
  void start(std::vector<std::string> argv, const std::string& log, bool drop_root) {
    pid = ::fork();
    if (pid == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      if (drop_root && ::getuid() == 0) {
        const passwd* pw = ::getpwnam("pgopt-test");
        if (!pw || ::setgid(pw->pw_gid) != 0 || ::setuid(pw->pw_uid) != 0) ::_exit(126);
      }
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  bool wait_listening(int port) {
    return eventually([&] { return port_open(port) || ::waitpid(pid, nullptr, WNOHANG) == pid; },
                      std::chrono::seconds(10)) && port_open(port);
  }
  int stop() {
    if (pid <= 0) return -1;
    ::kill(pid, SIGINT);  // both: a graceful stop (PgBouncer's SIGINT waits for clients to leave)
    int st = 0;
    if (!eventually([&] { return ::waitpid(pid, &st, WNOHANG) == pid; }, std::chrono::seconds(20))) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &st, 0);
    }
    pid = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }
};

// What a client sees: each query's rows (or its SQLSTATE), for two users.
std::vector<std::string> answers(int port) {
  const auto& env = ClusterEnv::instance();
  std::vector<std::string> out;
  struct Login {
    std::string user, password, db;
  };
  for (const Login& l : {Login{"md5_user", env.get("PGOPT_MD5_PASSWORD"), "pgopt_test"},
                         Login{"scram_user", env.get("PGOPT_SCRAM_PASSWORD"), "aliased"}}) {
    Conn c = connect("host=127.0.0.1 port=" + std::to_string(port) + " dbname=" + l.db + " user=" + l.user +
                     " password=" + l.password + " connect_timeout=10");
    if (PQstatus(c.get()) != CONNECTION_OK) {
      out.push_back(l.user + ": login failed: " + PQerrorMessage(c.get()));
      continue;
    }
    for (const char* sql : {"SELECT current_user, current_database()", "SELECT sum(g) FROM generate_series(1, 1000) g",
                            "BEGIN", "SELECT count(*) FROM pg_class WHERE relname = 'pg_class'", "COMMIT",
                            "SELECT 1 / 0", "SHOW server_encoding"}) {
      Result r = exec(c.get(), sql);
      std::string row = std::string(sql) + " -> ";
      if (PQresultStatus(r.get()) == PGRES_TUPLES_OK) {
        for (int i = 0; i < PQnfields(r.get()); ++i) row += std::string(i ? "|" : "") + PQgetvalue(r.get(), 0, i);
      } else {
        row += PQresultStatus(r.get()) == PGRES_COMMAND_OK ? "ok" : "error " + sqlstate(r.get());
      }
      out.push_back(row);
    }
    Conn bad = connect("host=127.0.0.1 port=" + std::to_string(port) + " dbname=" + l.db + " user=" + l.user +
                       " password=wrong connect_timeout=10");
    out.push_back(l.user + " with a wrong password: " + (PQstatus(bad.get()) == CONNECTION_OK ? "in" : "refused"));
  }
  return out;
}

TEST(ImportPgbouncer, PgbouncerAndTheTranslationAnswerAlike) {
  if (!std::filesystem::exists(kPgbouncer)) GTEST_SKIP() << "pgbouncer is not installed (scripts/setup.sh)";
  const auto& env = ClusterEnv::instance();
  std::string tmpl = (std::filesystem::temp_directory_path() / "pgopt-import-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  std::filesystem::path dir = tmpl;
  int port = free_port();
  std::string primary = std::to_string(env.primary_port);
  std::ofstream(dir / "pgbouncer.ini") << "[databases]\n"
      << "pgopt_test = host=127.0.0.1 port=" << primary << "\n"
      << "aliased = host=127.0.0.1 port=" << primary << " dbname=pgopt_test pool_size=2\n"
      << "[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = " << port << "\nunix_socket_dir =\n"
      << "auth_type = md5\nauth_file = " << (dir / "userlist.txt").string() << "\npool_mode = transaction\ndefault_pool_size = 4\n"
      << "max_client_conn = 50\nlogfile = " << (dir / "pgbouncer.log").string() << "\n"
      << "ignore_startup_parameters = extra_float_digits\nadmin_users = postgres\n";
  std::ofstream(dir / "userlist.txt") << "\"md5_user\" \"" << env.get("PGOPT_MD5_PASSWORD") << "\"\n"
                                      << "\"scram_user\" \"" << env.get("PGOPT_SCRAM_VERIFIER") << "\"\n"
                                      << "\"trust_user\" \"\"\n";
  if (::getuid() == 0) {
    const passwd* pw = ::getpwnam("pgopt-test");
    ASSERT_NE(pw, nullptr);
    for (const char* f : {"", "pgbouncer.ini", "userlist.txt"})
      ASSERT_EQ(::chown((dir / f).c_str(), pw->pw_uid, pw->pw_gid), 0);
  }

  std::vector<std::string> from_pgbouncer;
  {
    Child bouncer;
    bouncer.start({kPgbouncer, (dir / "pgbouncer.ini").string()}, (dir / "pgbouncer.stderr").string(), true);
    ASSERT_TRUE(bouncer.wait_listening(port)) << run("cat " + (dir / "pgbouncer.log").string());
    from_pgbouncer = answers(port);
  }

  int status = -1;
  std::string toml_path = (dir / "pgopt.toml").string();
  // In a subshell: run() sends the command's own stderr to its output, which must not reach the file.
  std::string cmd = "(" + std::string(PGOPT_BINARY) + " import-pgbouncer " + (dir / "pgbouncer.ini").string() +
                    " 2>" + (dir / "import.stderr").string() + " >" + toml_path + ")";
  run(cmd, &status);
  std::string diagnostics = run("cat " + (dir / "import.stderr").string());
  ASSERT_EQ(status, 0) << diagnostics;
  EXPECT_NE(diagnostics.find("pgbouncer.ini:13: logfile: pgopt logs to stderr"), std::string::npos) << diagnostics;
  std::string check = run(std::string(PGOPT_BINARY) + " check-config " + toml_path, &status);
  ASSERT_EQ(status, 0) << check;

  std::vector<std::string> from_pgopt;
  {
    Child pgopt;
    pgopt.start({PGOPT_BINARY, "pool", "--config", toml_path}, (dir / "pgopt.log").string(), false);
    ASSERT_TRUE(pgopt.wait_listening(port)) << run("cat " + (dir / "pgopt.log").string());
    from_pgopt = answers(port);
    EXPECT_EQ(pgopt.stop(), 0);
  }
  EXPECT_EQ(from_pgopt, from_pgbouncer);
  EXPECT_EQ(from_pgbouncer.size(), 16u);
  EXPECT_EQ(from_pgopt.front(), "SELECT current_user, current_database() -> md5_user|pgopt_test");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pgopt::test
