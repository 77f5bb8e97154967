// Test harness: the real cluster's coordinates, a pgopt child process per test, libpq helpers.
#pragma once

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <filesystem>
#include <iostream>
#include <fstream>
#include <map>
#include <set>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/loopback.hpp"
#include "support/wait.hpp"

namespace pgopt::test {

// KEY=VALUE lines written by scripts/cluster.sh.
struct ClusterEnv {
  std::map<std::string, std::string> vars;
  int primary_port = 0, replica_port = 0;
  std::string get(const std::string& k) const {
    auto it = vars.find(k);
    return it == vars.end() ? std::string() : it->second;
  }
  static const ClusterEnv& instance() {
    static ClusterEnv env = [] {
      ClusterEnv e;
      std::ifstream in(PGOPT_CLUSTER_ENV);
      std::string line;
      while (std::getline(in, line)) {
        auto eq = line.find('=');
        if (eq == std::string::npos) continue;
        std::string v = line.substr(eq + 1);
        if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') v = v.substr(1, v.size() - 2);
        e.vars[line.substr(0, eq)] = v;
      }
      e.primary_port = std::atoi(e.get("PGOPT_PRIMARY_PORT").c_str());
      e.replica_port = std::atoi(e.get("PGOPT_REPLICA_PORT").c_str());
      return e;
    }();
    return env;
  }
  // Runs a cluster.sh subcommand (pgctl/psql) and returns its exit status.
  int cluster(const std::string& args) const {
    std::string cmd = "bash " + get("PGOPT_CLUSTER_SCRIPT") + " " + args;
    return std::system(cmd.c_str());
  }
};

// Runs a shell command; its stdout and stderr, and its exit status in `status`.
inline std::string run(const std::string& cmd, int* status = nullptr) {
  std::string out;
  FILE* f = ::popen((cmd + " 2>&1").c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  int st = ::pclose(f);
  if (status) *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

// A port for a program that must be told its port before it starts (pgopt's listen_port takes no
// 0; HAProxy, a fleet's shared port): quiet_port(), below the ephemeral range and bound once to
// check it is free. Between that check and the program's bind another process can still take it, so
// the Pooler retries its start on "Address already in use" (tests/README.md, "Ports"). A port
// that must stay closed (an unreachable server) is dead_port() instead.
inline int free_port() { return quiet_port(); }

// A loopback port nothing listens on, for "the server cannot be reached": a port the kernel gave
// a bound socket that never listens, closed again. A connect to it is refused unless another
// program binds it meanwhile, which its place outside quiet_port()'s range makes unlikely.
inline int dead_port() {
  int port = 0;
  return bindable(0, &port) ? port : 1;
}

inline bool port_open(int port, const std::string& addr = "127.0.0.1") {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  ::inet_pton(AF_INET, addr.c_str(), &a.sin_addr);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// Worker threads of a test's pooler unless the test needs a number of its own: 2, or
// PGOPT_TEST_WORKERS (the ThreadSanitizer runs use 2 and 4; tests/README.md).
inline int default_workers() {
  const char* w = std::getenv("PGOPT_TEST_WORKERS");
  return w && std::atoi(w) > 0 ? std::atoi(w) : 2;
}

struct PoolerOptions {
  std::string pool_mode = "transaction";
  int pool_size = 4;
  int workers = default_workers();
  std::string auth_type = "trust";
  std::string users;          // auth file contents
  std::string pooler_extra;   // more [pooler] lines
  std::string databases;      // [databases.*] tables; default: pgopt_test on the primary
  std::string listen_addr = "127.0.0.1";  // another loopback address stands in for another host
  int port = 0;               // listen_port; 0: a free one (a fleet shares one, so_reuseport)
  int ready_port = 0;         // the port that says this process is up; 0: `port` (a fleet's own)
};

// One `pgopt pool` process for one test, with its own port, config, auth file and log.
class Pooler {
 public:
  explicit Pooler(PoolerOptions o = {}) : opts_(std::move(o)) {
    // A directory of its own (mkdtemp): named after the test's PID, a reused PID met an earlier
    // run's log, which the pooler appends to, and a test that reads the log saw that run's lines.
    std::string tmpl = (std::filesystem::temp_directory_path() / "pgopt-it-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
    dir_ = tmpl;
    // A port picked here can be taken by another process before pgopt binds it: pick another.
    for (int attempt = 0;; ++attempt) {
      port = opts_.port ? opts_.port : free_port();
      write_config(opts_);
      if (launch() != Startup::PortTaken || opts_.port || attempt == 4) return;
    }
  }
  ~Pooler() {
    stop();
    // Its directory (config, log) stays only when the test failed, to explain it: thousands of
    // runs left thousands of directories behind.
    std::error_code ec;
    if (!::testing::Test::HasFailure()) {
      std::filesystem::remove_all(dir_, ec);
      return;
    }
    // And the end of its log goes to the test's output: a CI machine's directory is out of reach.
    std::string text = log();
    size_t from = text.size();
    for (int lines = 0; from != std::string::npos && from > 0 && lines <= kLogLinesOnFailure; ++lines)
      from = text.rfind('\n', from - 1);
    from = from == std::string::npos ? 0 : from + 1;
    std::cerr << "---- last lines of " << log_path << " ----\n" << text.substr(from) << "---- end of log ----\n";
  }
  static constexpr int kLogLinesOnFailure = 60;
  Pooler(const Pooler&) = delete;
  Pooler& operator=(const Pooler&) = delete;

  std::string config_text(const PoolerOptions& o) const {
    const auto& env = ClusterEnv::instance();
    std::ostringstream c;
    c << "[pooler]\nlisten_addr = \"" << o.listen_addr << "\"\nlisten_port = " << port << "\nworkers = " << o.workers
      << "\npool_mode = \"" << o.pool_mode << "\"\ndefault_pool_size = " << o.pool_size << "\nauth_type = \""
      << o.auth_type << "\"\nauth_file = \"users.txt\"\nlog_level = \"debug\"\n"
      << o.pooler_extra << "\n";
    if (o.databases.empty())
      c << "[databases.pgopt_test]\nhost = \"127.0.0.1\"\nport = " << env.primary_port << "\n";
    else
      c << o.databases;
    return c.str();
  }
  void write_config(const PoolerOptions& o) {
    std::ofstream(dir_ / "pgopt.toml") << config_text(o);
    std::ofstream(dir_ / "users.txt") << o.users;
  }
  void write_raw_config(const std::string& text) { std::ofstream(dir_ / "pgopt.toml") << text; }

  void start() {
    if (launch() == Startup::PortTaken) ADD_FAILURE() << "port " << port << " is taken:\n" << log();
  }

  // How a launch ended: listening, or exited because its port was taken (the constructor then
  // tries another), or failed (the test has failed).
  enum class Startup { Up, PortTaken, Failed };
  Startup launch() {
    log_path = (dir_ / "pgopt.log").string();
    pid = ::fork();
    if (pid == 0) {
      int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::string cfg = (dir_ / "pgopt.toml").string();
      // PGOPT_TEST_BINARY: another build's pgopt (the ThreadSanitizer runs; tests/README.md).
      const char* bin = std::getenv("PGOPT_TEST_BINARY") ? std::getenv("PGOPT_TEST_BINARY") : PGOPT_BINARY;
      ::execl(bin, bin, "pool", "--config", cfg.c_str(), nullptr);
      ::_exit(127);
    }
    // A shared port is open as soon as the fleet's first process listens: wait on this one's own.
    const int ready = opts_.ready_port ? opts_.ready_port : port;
    const bool settled = poll_until([&] { return port_open(ready, opts_.listen_addr) || !running(); },
                                    std::chrono::seconds(5), std::chrono::milliseconds(25));
    if (settled && pid > 0) return Startup::Up;
    if (!settled) {
      ADD_FAILURE() << "pgopt did not listen on " << ready << ":\n" << log();
      return Startup::Failed;
    }
    const std::string text = log();
    // Only its client port is retried: "cannot listen on ADDR:PORT: bind: Address already in use".
    const std::string taken = "cannot listen on " + opts_.listen_addr + ":" + std::to_string(port) + ":";
    if (text.find(taken) != std::string::npos && text.find("Address already in use") != std::string::npos)
      return Startup::PortTaken;
    ADD_FAILURE() << "pgopt exited at startup:\n" << text;
    return Startup::Failed;
  }

  // SIGTERM, then wait; SIGKILL by PID if it does not stop. Returns the exit status.
  int stop(std::chrono::milliseconds patience = std::chrono::seconds(20)) {
    if (pid <= 0) return exit_status;
    ::kill(pid, SIGTERM);
    if (poll_until([&] { return !running(); }, patience)) return exit_status;
    int st = 0;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &st, 0);
    pid = -1;
    exit_status = -1;
    return exit_status;
  }
  void signal(int sig) const { ::kill(pid, sig); }
  // Whether it still runs. One that exited is reaped here and its status kept (pid -1), so a later
  // stop() or signal() never reaches a PID the kernel gave to another process since.
  bool running() {
    if (pid <= 0) return false;
    int st = 0;
    if (::waitpid(pid, &st, WNOHANG) != pid) return true;
    pid = -1;
    exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return false;
  }
  // Waits for it to exit by itself (a drain, a takeover); its exit status, or -1 when it still
  // runs after `patience`.
  int wait_exit(std::chrono::milliseconds patience = std::chrono::seconds(25)) {
    return poll_until([&] { return !running(); }, patience) ? exit_status : -1;
  }

  std::string log() const {
    std::ifstream in(log_path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // Waits until the log contains `needle` (reload and shutdown are asynchronous).
  bool wait_log(const std::string& needle, std::chrono::milliseconds patience = std::chrono::seconds(5)) const {
    return poll_until([&] { return log().find(needle) != std::string::npos; }, patience);
  }

  std::string conninfo(const std::string& user = "postgres", const std::string& db = "pgopt_test",
                       const std::string& extra = "") const {
    return "host=127.0.0.1 port=" + std::to_string(port) + " dbname=" + db + " user=" + user +
           " connect_timeout=10 " + extra;
  }
  const std::filesystem::path& dir() const { return dir_; }

  int port = 0;
  pid_t pid = -1;
  int exit_status = 0;
  std::string log_path;

 private:
  PoolerOptions opts_;
  std::filesystem::path dir_;
};

struct PGconnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, PGconnDeleter>;
struct PGresultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, PGresultDeleter>;

inline Conn connect(const std::string& conninfo) { return Conn(PQconnectdb(conninfo.c_str())); }

inline Conn connect_ok(const std::string& conninfo) {
  Conn c = connect(conninfo);
  EXPECT_EQ(PQstatus(c.get()), CONNECTION_OK) << PQerrorMessage(c.get());
  return c;
}

inline Conn direct(const std::string& db = "pgopt_test", const std::string& user = "postgres") {
  return connect_ok("host=127.0.0.1 port=" + std::to_string(ClusterEnv::instance().primary_port) + " dbname=" + db +
                    " user=" + user);
}

inline Result exec(PGconn* c, const std::string& sql) { return Result(PQexec(c, sql.c_str())); }

// First column of the first row; fails the test on an error.
inline std::string value(PGconn* c, const std::string& sql) {
  Result r = exec(c, sql);
  auto st = PQresultStatus(r.get());
  EXPECT_TRUE(st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) << sql << ": " << PQerrorMessage(c);
  if (st != PGRES_TUPLES_OK || PQntuples(r.get()) == 0) return {};
  return PQgetisnull(r.get(), 0, 0) ? "<null>" : PQgetvalue(r.get(), 0, 0);
}

inline void ok(PGconn* c, const std::string& sql) {
  Result r = exec(c, sql);
  auto st = PQresultStatus(r.get());
  EXPECT_TRUE(st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) << sql << ": " << PQerrorMessage(c);
}

inline std::string sqlstate(const PGresult* r) {
  const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  return s ? s : "";
}

// The SQLSTATE of a failing statement ("" when it succeeded).
inline std::string error_of(PGconn* c, const std::string& sql) {
  Result r = exec(c, sql);
  auto st = PQresultStatus(r.get());
  if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) return "";
  std::string s = sqlstate(r.get());
  return s.empty() ? "connection:" + std::string(PQerrorMessage(c)) : s;
}

// Polls `cond` until it holds or `patience` runs out (the pooler acts asynchronously).
inline bool eventually(const std::function<bool()>& cond,
                       std::chrono::milliseconds patience = std::chrono::seconds(5)) {
  return poll_until(cond, patience, std::chrono::milliseconds(50));
}

// How many times `needle` occurs in `text` (log lines the pooler wrote more than once).
inline size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// Client backends on pgopt_test (all users, or one), seen from the primary over a direct connection.
inline int server_connections(const std::string& user = "") {
  Conn d = direct("postgres");
  std::string sql =
      "SELECT count(*) FROM pg_stat_activity WHERE datname = 'pgopt_test' AND backend_type = 'client backend' "
      "AND pid <> pg_backend_pid()";
  if (!user.empty()) sql += " AND usename = '" + user + "'";
  return std::atoi(value(d.get(), sql).c_str());
}

}  // namespace pgopt::test
