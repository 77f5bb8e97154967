// Failover (issue 18) on real clusters: pgopt in front of a database listed with `hosts` finds the
// primary itself and follows it through a manual promotion, a split brain, a Patroni switchover and
// a kill -9 of the Patroni leader. Label `failover`; each test starts and stops its own cluster.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "cluster_harness.hpp"
#include "raw_client.hpp"

namespace pgopt::test {
namespace {

using Steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

double seconds_since(Steady::time_point t) { return std::chrono::duration<double>(Steady::now() - t).count(); }

std::string hosts_list(const std::vector<int>& ports) {
  std::string out = "[";
  for (size_t i = 0; i < ports.size(); ++i) out += (i ? ", " : "") + std::string("\"127.0.0.1:") + std::to_string(ports[i]) + "\"";
  return out + "]";
}

PoolerOptions ha_options(const std::vector<int>& ports, const std::string& dbname, const std::string& wait) {
  PoolerOptions o;
  o.pool_size = 8;
  o.pooler_extra = "health_check_period = \"200ms\"\nfailover_wait_timeout = \"" + wait + "\"\n";
  o.databases = "[databases.ha]\nhosts = " + hosts_list(ports) + "\ndbname = \"" + dbname + "\"\n";
  return o;
}

// The same members as `ha` twice more: `hars` reads from the standby members (read_write_split,
// round robin so every standby gets reads), `hasession` in session mode. `ha` also reads Patroni's
// REST API (`apis`), which must agree with the members.
PoolerOptions ha_options_all(const std::vector<int>& ports, const std::vector<int>& apis, const std::string& dbname,
                             const std::string& wait) {
  PoolerOptions o = ha_options(ports, dbname, wait);
  std::string urls;
  for (int a : apis) urls += (urls.empty() ? "\"" : ", \"") + std::string("http://127.0.0.1:") + std::to_string(a) + "\"";
  o.databases += "patroni_urls = [" + urls + "]\n";
  // A member that failed its poll (the killed leader) is asked again after replica_ban_time.
  o.pooler_extra += "lag_poll_interval = \"100ms\"\nreplica_ban_time = \"1s\"\n";
  o.databases += "[databases.hars]\nhosts = " + hosts_list(ports) + "\ndbname = \"" + dbname +
                 "\"\nread_write_split = true\nload_balance = \"round_robin\"\n";
  o.databases += "[databases.hasession]\nhosts = " + hosts_list(ports) + "\ndbname = \"" + dbname +
                 "\"\npool_mode = \"session\"\n";
  return o;
}

// A new client through pgopt runs `sql`: "" when it worked, else the SQLSTATE.
std::string fresh_try(const Pooler& p, const std::string& sql) {
  Conn c = connect(p.conninfo("postgres", "ha"));
  if (PQstatus(c.get()) != CONNECTION_OK) return "login";
  return try_exec(c.get(), sql);
}

// A stand-in for Patroni's REST API over TLS (restapi with a certfile and verify_client: required):
// OpenSSL's own test server, `openssl s_server -WWW`, serves the file `cluster` of its directory for
// GET /cluster (HTTP/1.0, one connection at a time, closed after the reply); set_leader rewrites
// that file. Its certificate comes from a CA of its own and names 127.0.0.1 only; it answers only
// clients showing a certificate of that CA. Stopped by PID with the object.
class FakePatroni {
 public:
  FakePatroni() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "pgopt-patroni-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    int st = 0;
    const std::string d = dir_.string();
    run("cd " + d + " && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj "
        "'/CN=pgopt test patroni CA' && openssl req -newkey rsa:2048 -nodes -keyout api.key -out api.csr -subj "
        "'/CN=127.0.0.1' && printf 'subjectAltName=IP:127.0.0.1\\n' > ext.cnf && openssl x509 -req -in api.csr "
        "-CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf -out api.crt && openssl req -newkey rsa:2048 "
        "-nodes -keyout client.key -out client.csr -subj '/CN=pgopt' && openssl x509 -req -in client.csr -CA ca.crt "
        "-CAkey ca.key -CAcreateserial -days 2 -out client.crt 2>&1",
        &st);
    if (st != 0) throw std::runtime_error("FakePatroni: openssl could not make certificates");
    set_body("{}");
    port = free_port();
    pid_ = ::fork();
    if (pid_ == 0) {
      if (::chdir(d.c_str()) != 0) ::_exit(127);
      int log = ::open("s_server.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(log, 1);
      ::dup2(log, 2);
      const std::string accept = "127.0.0.1:" + std::to_string(port);
      ::execlp("openssl", "openssl", "s_server", "-WWW", "-quiet", "-Verify", "1", "-CAfile", "ca.crt", "-accept",
               accept.c_str(), "-cert", "api.crt", "-key", "api.key", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    if (!eventually([&] { return RawClient(port).connected(); }, std::chrono::seconds(10)))
      throw std::runtime_error("FakePatroni: openssl s_server did not listen");
  }
  ~FakePatroni() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  // Members on 127.0.0.1 with these ports; `leader` is the one Patroni calls leader (running).
  void set_leader(const std::vector<int>& ports, int leader) {
    std::string members;
    for (int p : ports)
      members += std::string(members.empty() ? "" : ",") + R"({"name": "n)" + std::to_string(p) + R"(", "role": ")" +
                 (p == leader ? "leader" : "replica") + R"(", "state": ")" + (p == leader ? "running" : "streaming") +
                 R"(", "host": "127.0.0.1", "port": )" + std::to_string(p) + "}";
    set_body(R"({"members": [)" + members + R"(], "scope": "fake"})");
  }
  std::string file(const char* name) const { return (dir_ / name).string(); }
  int port = 0;

 private:
  // Written aside and renamed, so a request never reads half a file.
  void set_body(const std::string& body) {
    std::ofstream(dir_ / "cluster.new") << body;
    std::filesystem::rename(dir_ / "cluster.new", dir_ / "cluster");
  }
  std::filesystem::path dir_;
  pid_t pid_ = -1;
};

TEST(Failover, DiscoveryPromotionAndSplitBrain) {
  ScriptCluster cl("cluster.sh");
  ASSERT_TRUE(cl.started) << cl.output;
  const int primary = cl.port("PGOPT_PRIMARY_PORT"), replica = cl.port("PGOPT_REPLICA_PORT");
  FakePatroni patroni;
  patroni.set_leader({replica, primary}, replica);  // Patroni disagrees with PostgreSQL
  PoolerOptions o = ha_options({replica, primary}, "pgopt_test", "10s");
  o.databases += "[databases.hap]\nhosts = " + hosts_list({replica, primary}) +
                 "\ndbname = \"pgopt_test\"\npatroni_ca_file = \"" + patroni.file("ca.crt") +
                 "\"\npatroni_cert_file = \"" + patroni.file("client.crt") + "\"\npatroni_key_file = \"" +
                 patroni.file("client.key") +
                 // The first URL refuses, the second's certificate does not name "localhost": each
                 // round asks the next, and only the third answers.
                 "\"\npatroni_urls = [\"http://127.0.0.1:1\", \"https://localhost:" + std::to_string(patroni.port) +
                 "\", \"https://127.0.0.1:" + std::to_string(patroni.port) + "\"]\n";
  o.pooler_extra += "admin_users = [\"postgres\"]\n";
  Pooler p(o);
  Conn c = connect_ok(p.conninfo("postgres", "ha"));
  EXPECT_EQ(value(c.get(), "SHOW port"), std::to_string(primary));

  const std::string unreadable = "Patroni at https://localhost:" + std::to_string(patroni.port) + " cannot be read: TLS: ";
  // patroni_urls: while Patroni's leader is not the member PostgreSQL calls primary, a new client's
  // login (which needs a server) is held, on neither member; once they agree it completes there.
  {
    PGconn* raw = PQconnectStart(p.conninfo("postgres", "hap").c_str());
    Conn held(raw);
    ASSERT_NE(PQstatus(raw), CONNECTION_BAD);
    auto poll = [&] {  // drives the non-blocking login one step; true once it is done (either way)
      const auto st = PQconnectPoll(raw);
      return st == PGRES_POLLING_OK || st == PGRES_POLLING_FAILED;
    };
    // The login starts (the startup packet reaches pgopt, whose prober then has credentials).
    EXPECT_TRUE(eventually([&] { return !poll() && p.log().find("Patroni and PostgreSQL disagree") != std::string::npos; },
                           std::chrono::seconds(10)))
        << p.log();
    const auto sent = Steady::now();
    EXPECT_FALSE(eventually([&] { return poll(); }, std::chrono::seconds(1))) << "held, not run on either member";
    EXPECT_GE(seconds_since(sent), 1.0);
    patroni.set_leader({replica, primary}, primary);
    ASSERT_TRUE(eventually([&] { return poll(); }, std::chrono::seconds(5))) << p.log();
    ASSERT_EQ(PQstatus(raw), CONNECTION_OK) << PQerrorMessage(raw);
    // A URL that cannot be read is a warning when it starts failing, not once per round.
    EXPECT_TRUE(p.wait_log(unreadable)) << p.log();
    EXPECT_TRUE(p.wait_log("Patroni at http://127.0.0.1:1 cannot be read: ")) << p.log();
    EXPECT_EQ(value(raw, "SELECT inet_server_port()"), std::to_string(primary));
    // The admin console shows each member's role and the election state.
    Conn admin = connect_ok(p.conninfo("postgres", "pgopt"));
    Result dbs = exec(admin.get(), "SHOW DATABASES");
    ASSERT_EQ(PQresultStatus(dbs.get()), PGRES_TUPLES_OK) << PQerrorMessage(admin.get());
    const int hosts_col = PQfnumber(dbs.get(), "hosts"), state_col = PQfnumber(dbs.get(), "failover_state");
    ASSERT_GE(hosts_col, 0);
    std::string hap_hosts, hap_state;
    for (int i = 0; i < PQntuples(dbs.get()); ++i)
      if (std::string(PQgetvalue(dbs.get(), i, 0)) == "hap") {
        hap_hosts = PQgetvalue(dbs.get(), i, hosts_col);
        hap_state = PQgetvalue(dbs.get(), i, state_col);
      }
    EXPECT_EQ(hap_hosts, "127.0.0.1:" + std::to_string(replica) + "=standby,127.0.0.1:" + std::to_string(primary) +
                             "=primary");
    EXPECT_EQ(hap_state, "stable");
    Result servers = exec(admin.get(), "SHOW SERVERS");
    ASSERT_EQ(PQresultStatus(servers.get()), PGRES_TUPLES_OK) << PQerrorMessage(admin.get());
    const int role_col = PQfnumber(servers.get(), "role"), port_col = PQfnumber(servers.get(), "port");
    ASSERT_GE(role_col, 0);
    ASSERT_GT(PQntuples(servers.get()), 0);
    for (int i = 0; i < PQntuples(servers.get()); ++i)
      EXPECT_EQ(std::string(PQgetvalue(servers.get(), i, role_col)),
                std::string(PQgetvalue(servers.get(), i, port_col)) == std::to_string(primary) ? "primary" : "standby");
  }
  ok(c.get(), "CREATE TABLE IF NOT EXISTS fo_promote (id int PRIMARY KEY)");
  ok(c.get(), "INSERT INTO fo_promote VALUES (1)");
  // cluster.sh runs synchronous_commit = off: wait until the replica has the row before promoting.
  ASSERT_TRUE(eventually([&] {
    Conn r = direct_to(replica, "pgopt_test");
    return try_exec(r.get(), "SELECT 1 FROM fo_promote WHERE id = 1 HAVING count(*) = 1").empty() &&
           value(r.get(), "SELECT count(*) FROM fo_promote") == "1";
  }));

  int st = 0;
  const std::string promoted = cl.run_cmd("pgctl", "replica -w promote", &st);
  ASSERT_EQ(st, 0) << promoted;
  // Both claim to be primary: new transactions are refused, never sent to either.
  std::string refused;
  ASSERT_TRUE(eventually([&] {
                refused = fresh_try(p, "INSERT INTO fo_promote VALUES (2)");
                return refused == "57P03" || refused.find("split brain") != std::string::npos;
              },
                         std::chrono::seconds(10)))
      << refused;
  EXPECT_TRUE(p.wait_log("SPLIT BRAIN"));
  // Many rounds have asked it since: one warning (two if a loaded round timed out in between).
  EXPECT_GE(count_of(p.log(), unreadable), 1u);
  EXPECT_LE(count_of(p.log(), unreadable), 2u) << p.log();
  Conn idle = connect_ok(p.conninfo("postgres", "ha"));  // idle from here on

  const auto stopped = Steady::now();
  const std::string out = cl.run_cmd("pgctl", "primary -m immediate -w stop", &st);
  ASSERT_EQ(st, 0) << out;
  std::string last;
  ASSERT_TRUE(eventually([&] { return (last = fresh_try(p, "INSERT INTO fo_promote VALUES (3)")).empty(); },
                         std::chrono::seconds(10)))
      << last << "\n" << p.log();
  std::printf("[failover] split brain resolved by stopping the old primary: first write %.2f s after the stop\n",
              seconds_since(stopped));
  EXPECT_EQ(try_exec(idle.get(), "INSERT INTO fo_promote VALUES (4)"), "");
  EXPECT_EQ(value(idle.get(), "SHOW port"), std::to_string(replica));
  EXPECT_EQ(value(idle.get(), "SELECT count(*) FROM fo_promote"), "3");  // 1, 3, 4: 2 was refused
}

// The Patroni cluster the next tests share (started once: about 35 s).
class Patroni : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = new ScriptCluster("patroni.sh"); }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(cluster_->started) << cluster_->output; }
  static std::vector<int> ports() {
    return {cluster_->port("PGOPT_PATRONI_PORT_1"), cluster_->port("PGOPT_PATRONI_PORT_2"),
            cluster_->port("PGOPT_PATRONI_PORT_3")};
  }
  static std::vector<int> apis() {
    return {cluster_->port("PGOPT_PATRONI_API_1"), cluster_->port("PGOPT_PATRONI_API_2"),
            cluster_->port("PGOPT_PATRONI_API_3")};
  }
  static ScriptCluster* cluster_;
};
ScriptCluster* Patroni::cluster_ = nullptr;

// One client writing rows with ids of its own through pgopt, one autocommit INSERT at a time; on an
// error it reconnects and goes on with the next id (never retrying one: that would hide a duplicate).
// "connection: <libpq text>" shortened to what the failure was.
inline std::string short_error(const std::string& e) {
  for (const char* known : {"no primary server", "split brain", "terminating connection", "lost", "closed the connection"})
    if (e.find(known) != std::string::npos) return "conn(" + std::string(known) + ")";
  return "conn(" + e.substr(12, 60) + ")";
}

class Writer {
 public:
  Writer(const Pooler& p, std::string table) : p_(p), table_(std::move(table)), thread_([this] { loop(); }) {}
  ~Writer() { stop(); }
  void stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }
  size_t acked() {
    std::lock_guard lk(mu_);
    return acked_.size();
  }
  // Write unavailability around `t` (a kill): the longest pause between two acknowledged writes
  // that ends after `t`, and when the write ending it was acknowledged, in seconds after `t`
  // (negative: none yet). Writes may still be acknowledged just after a kill -9 of a postmaster:
  // its backends and walsender live on until they notice.
  struct Outage {
    double gap = -1, recovered_after = -1;
  };
  Outage outage_after(Steady::time_point t) {
    std::lock_guard lk(mu_);
    Outage o;
    for (size_t i = 1; i < times_.size(); ++i) {
      if (times_[i].second < t) continue;
      const double gap = std::chrono::duration<double>(times_[i].second - times_[i - 1].second).count();
      if (gap > o.gap) o = {gap, std::chrono::duration<double>(times_[i].second - t).count()};
    }
    return o;
  }
  std::vector<long> acked_ids() {
    std::lock_guard lk(mu_);
    return acked_;
  }
  std::vector<std::string> errors() {
    std::lock_guard lk(mu_);
    return errors_;
  }

 private:
  void loop() {
    Conn c;
    for (long id = 1; !done_; ++id) {
      if (!c || PQstatus(c.get()) != CONNECTION_OK) c = connect(p_.conninfo("postgres", "ha"));
      const auto started = Steady::now();
      const std::string e = PQstatus(c.get()) == CONNECTION_OK
                                ? try_exec(c.get(), "INSERT INTO " + table_ + " VALUES (" + std::to_string(id) + ")")
                                : "login";
      std::lock_guard lk(mu_);
      if (e.empty()) {
        acked_.push_back(id);
        times_.emplace_back(started, Steady::now());
      } else {
        errors_.push_back(e.starts_with("connection: ") ? short_error(e) : e);
        // time must pass: a retry pace, no busy loop on a refused login
        if (e == "login") std::this_thread::sleep_for(milliseconds(20));
      }
    }
  }

  const Pooler& p_;
  std::string table_;
  std::atomic<bool> done_{false};
  std::mutex mu_;
  std::vector<long> acked_;
  std::vector<std::pair<Steady::time_point, Steady::time_point>> times_;
  std::vector<std::string> errors_;
  std::thread thread_;
};

// The pooler's log lines about the primary (what the prober saw, when).
std::string failover_lines(const Pooler& p) {
  std::istringstream in(p.log());
  std::string line, out;
  while (std::getline(in, line))
    if ((line.find("database ha: ") != std::string::npos && line.find("DEBUG") == std::string::npos) ||
        line.find("waiting for the primary") != std::string::npos)
      out += "  " + line + "\n";
  return out;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out.empty() ? "none" : out;
}

// pgbench through pgopt in the background for 24 s (it stops by itself; a switchover by patroni.sh
// takes 10-15 s with its waits): each client runs one short read-write transaction on a row of its
// own, then stays idle 10 ms. Its per-client
// logs (-l) say which clients still completed transactions after the switchover.
class Bench {
 public:
  struct Result {
    long processed = 0, failed = 0;
    int aborted = 0, aborted_inside = 0, aborted_server_lost = 0, after_switch_clients = 0;
    std::string output;
  };
  Bench(const Pooler& p, int clients) : dir_(p.dir()) {
    std::ofstream(dir_ / "fo_bench.sql") << "\\set c :client_id + 1\n"
                                            "BEGIN;\n"
                                            "UPDATE fo_bench SET n = n + 1 WHERE client = :c;\n"
                                            "SELECT n FROM fo_bench WHERE client = :c;\n"
                                            "END;\n"
                                            "\\sleep 10 ms\n";
    const std::string cmd = "cd " + dir_.string() + " && pgbench -n -T 24 -c " + std::to_string(clients) +
                            " -j 2 -l --log-prefix=fo_bench_log -f fo_bench.sql \"" + p.conninfo("postgres", "ha") + "\"";
    thread_ = std::thread([this, cmd] { output_ = run(cmd, &status_); });
  }
  ~Bench() {
    if (thread_.joinable()) thread_.join();
  }
  // Waits for the run to end (bounded by -T) and reads its summary; `switched` is when the
  // switchover was over (epoch seconds), for the per-client logs.
  Result finish(double switched = 0) {
    if (thread_.joinable()) thread_.join();
    Result r;
    r.output = output_;
    std::istringstream lines(output_);
    for (std::string line; std::getline(lines, line);) {
      const auto at = line.find("aborted in command ");
      if (at == std::string::npos) continue;
      ++r.aborted;
      r.aborted_inside += std::atoi(line.c_str() + at + 19) >= 2 ? 1 : 0;
      // pgbench words a broken connection three ways: libpq's message, the server's FATAL inside its
      // line, or, when the FATAL came as the connection closed while pgbench waited for the result
      // (PQconsumeInput failed; libpq prints the FATAL on a line of its own), its own "perhaps the
      // backend died while processing" (CI saw this once in 4 aborts).
      const bool lost = line.find("server connection to") != std::string::npos ||
                        line.find("terminating connection due to administrator command") != std::string::npos ||
                        line.find("perhaps the backend died while processing") != std::string::npos;
      r.aborted_server_lost += lost ? 1 : 0;
    }
    const std::string processed = "number of transactions actually processed: ", failed = "number of failed transactions: ";
    if (auto at = output_.find(processed); at != std::string::npos)
      r.processed = std::atol(output_.c_str() + at + processed.size());
    if (auto at = output_.find(failed); at != std::string::npos) r.failed = std::atol(output_.c_str() + at + failed.size());
    for (const auto& e : std::filesystem::directory_iterator(dir_)) {
      if (e.path().filename().string().rfind("fo_bench_log", 0) != 0) continue;
      std::ifstream in(e.path());
      std::string line;
      std::set<int> clients;
      while (std::getline(in, line)) {  // client_id transaction_no time script_no time_epoch time_us
        std::istringstream f(line);
        int client = 0;
        long tx = 0, latency = 0, script = 0, epoch = 0;
        if (f >> client >> tx >> latency >> script >> epoch && double(epoch) > switched) clients.insert(client);
      }
      r.after_switch_clients += int(clients.size());
    }
    return r;
  }

 private:
  std::filesystem::path dir_;
  std::string output_;
  int status_ = 0;
  std::thread thread_;
};

// (c) A planned switchover: clients that are idle at the moment see no error and keep their
// connections; a client writing all along loses at most the transactions in flight.
TEST_F(Patroni, SwitchoverIdleClientsSeeNoError) {
  Pooler p(ha_options_all(ports(), apis(), "postgres", "30s"));
  Conn setup = connect_ok(p.conninfo("postgres", "ha"));
  ok(setup.get(), "CREATE TABLE IF NOT EXISTS fo_switch (id bigint PRIMARY KEY)");
  ok(setup.get(), "CREATE TABLE IF NOT EXISTS fo_idle (client int, n int)");
  ok(setup.get(), "CREATE TABLE IF NOT EXISTS fo_bench (client int PRIMARY KEY, n bigint)");
  ok(setup.get(), "INSERT INTO fo_bench SELECT g, 0 FROM generate_series(1, 8) g ON CONFLICT DO NOTHING");
  // A session-mode client holds one server of the old leader through the switchover.
  Conn session = connect_ok(p.conninfo("postgres", "hasession"));
  ok(session.get(), "INSERT INTO fo_idle VALUES (100, 1)");
  const std::string session_port = value(session.get(), "SHOW port");
  Bench bench(p, 8);
  std::vector<Conn> idle;
  for (int i = 0; i < 6; ++i) {
    idle.push_back(connect_ok(p.conninfo("postgres", "ha")));
    ok(idle.back().get(), "INSERT INTO fo_idle VALUES (" + std::to_string(i) + ", 1)");
  }
  const std::string before = value(setup.get(), "SHOW port");
  Writer w(p, "fo_switch");
  ASSERT_TRUE(eventually([&] { return w.acked() >= 20; }, std::chrono::seconds(10)));
  const auto t0 = Steady::now();
  int st = 0;
  std::string out;
  std::thread switcher([&] { out = cluster_->run_cmd("switchover", "", &st); });
  // When pgopt elected the new leader (the script returns later, once the cluster is whole again).
  const bool elected =
      eventually([&] { return count_of(p.log(), "database ha: primary is now") >= 2; }, std::chrono::seconds(60));
  const double switched_epoch = double(std::time(nullptr));
  switcher.join();
  ASSERT_EQ(st, 0) << out;
  ASSERT_TRUE(elected) << failover_lines(p);
  const double switch_s = seconds_since(t0);
  const size_t at_switch = w.acked();
  ASSERT_TRUE(eventually([&] { return w.acked() >= at_switch + 20; }, std::chrono::seconds(30))) << p.log();
  w.stop();
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(try_exec(idle[size_t(i)].get(), "INSERT INTO fo_idle VALUES (" + std::to_string(i) + ", 2)"), "")
        << "idle client " << i << "\n" << p.log();
  EXPECT_NE(value(idle[0].get(), "SHOW port"), before);
  EXPECT_EQ(value(idle[0].get(), "SELECT count(*) FROM fo_idle WHERE n = 2"), "6");
  const auto outage = w.outage_after(t0);
  std::printf("[failover] switchover took %.1f s (patroni.sh); the writer's longest pause %.2f s; writer errors "
              "during it: %zu (%s)\n",
              switch_s, outage.gap, w.errors().size(), joined(w.errors()).c_str());
  // One writer has at most one transaction in flight when the old primary stops, and one more may
  // meet a pooled connection the stopping server had already closed.
  std::printf("%s", failover_lines(p).c_str());
  EXPECT_LE(w.errors().size(), 2u) << joined(w.errors());

  // pgbench through pgopt (8 clients, one short transaction each then 10 ms idle): a client whose
  // transaction was in flight when the old leader stopped is aborted by pgbench (one failed
  // transaction); every other client goes on, on the new leader, to the end of the run.
  // "In flight" is told by the error: the server connection to the old leader broke under the
  // statement (pgbench's command 1 is BEGIN, 2-4 the statements inside the transaction). An error
  // pgopt made itself (a hold that timed out, a refusal, a write sent to a standby) would be a
  // failure of a transaction that was not in flight, and fails this test.
  const Bench::Result b = bench.finish(switched_epoch);
  std::printf("[failover] pgbench through the switchover: %ld transactions, %d of 8 clients aborted (%d inside a "
              "transaction, %d at its BEGIN), all with the old leader's connection broken: %d; other failures %ld; "
              "clients that went on after the switch %d\n",
              b.processed, b.aborted, b.aborted_inside, b.aborted - b.aborted_inside, b.aborted_server_lost, b.failed,
              b.after_switch_clients);
  EXPECT_EQ(b.failed, 0) << b.output;
  EXPECT_EQ(b.aborted_server_lost, b.aborted) << b.output;
  EXPECT_GT(b.processed, 0) << b.output;
  EXPECT_GE(b.after_switch_clients, 8 - b.aborted) << b.output;
  EXPECT_GT(b.after_switch_clients, 0) << b.output;

  // Session mode: the client's server went away with the old leader; it gets an error, and its
  // next connection works on the new leader.
  EXPECT_NE(try_exec(session.get(), "INSERT INTO fo_idle VALUES (100, 2)"), "") << "the old server is gone";
  Conn again = connect_ok(p.conninfo("postgres", "hasession"));
  EXPECT_EQ(try_exec(again.get(), "INSERT INTO fo_idle VALUES (100, 3)"), "") << p.log();
  EXPECT_NE(value(again.get(), "SHOW port"), session_port);
}

// (b) kill -9 of the leader's postmaster under a writer: with synchronous_mode no acknowledged row
// is lost, none is written twice, and the write unavailability is measured.
TEST_F(Patroni, KillLeaderUnderWriterThenRejoin) {
  Pooler p(ha_options_all(ports(), apis(), "postgres", "30s"));
  Conn setup = connect_ok(p.conninfo("postgres", "ha"));
  ok(setup.get(), "CREATE TABLE IF NOT EXISTS fo_kill (id bigint PRIMARY KEY)");
  const std::string before = value(setup.get(), "SHOW port");
  Writer w(p, "fo_kill");
  ASSERT_TRUE(eventually([&] { return w.acked() >= 50; }, std::chrono::seconds(10)));
  const auto killed = Steady::now();
  int st = 0;
  const std::string old = cluster_->run_cmd("kill-primary", "", &st);
  ASSERT_EQ(st, 0) << old;
  const size_t at_kill = w.acked();
  // Done once the new primary has taken 50 writes (the prober logs the second election).
  ASSERT_TRUE(eventually([&] { return count_of(p.log(), "database ha: primary is now") >= 2; }, std::chrono::seconds(60)))
      << failover_lines(p);
  const size_t at_election = w.acked();
  ASSERT_TRUE(eventually([&] { return w.acked() >= std::max(at_kill, at_election) + 50; }, std::chrono::seconds(30)))
      << failover_lines(p);
  w.stop();
  const auto outage = w.outage_after(killed);
  const auto acked = w.acked_ids();
  Conn check = connect_ok(p.conninfo("postgres", "ha"));
  Result r = exec(check.get(), "SELECT id FROM fo_kill");
  ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQerrorMessage(check.get());
  std::set<long> present;
  for (int i = 0; i < PQntuples(r.get()); ++i) present.insert(std::atol(PQgetvalue(r.get(), i, 0)));
  size_t lost = 0;
  for (long id : acked) lost += present.count(id) ? 0 : 1;
  const auto errors = w.errors();
  const size_t duplicates = size_t(std::count(errors.begin(), errors.end(), "23505"));
  std::printf("[failover] kill -9 of leader %s: writes stopped for %.2f s, first write after the outage %.2f s after "
              "the kill; acknowledged %zu, present %zu, lost %zu, duplicated %zu; writer errors %zu (%s)\n",
              old.substr(0, old.find('\n')).c_str(), outage.gap, outage.recovered_after, acked.size(), present.size(),
              lost, duplicates, errors.size(), joined(errors).c_str());
  std::printf("%s", failover_lines(p).c_str());
  EXPECT_NE(value(check.get(), "SHOW port"), before) << "the writes moved to the new leader";
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(duplicates, 0u);
  EXPECT_GE(outage.recovered_after, 0);

  // (e) The killed leader rejoins: its Patroni rewinds it and starts it as a replica of the new
  // leader. Once it streams, pgopt sends it reads (round robin over the standby members), and what
  // it answers is the new leader's data.
  const std::string old_member = old.substr(0, old.find('\n'));
  const std::string old_port = std::to_string(cluster_->port("PGOPT_PATRONI_PORT_" + old_member.substr(1)));
  Conn reader = connect_ok(p.conninfo("postgres", "hars"));
  std::string answer;
  ASSERT_TRUE(eventually([&] {
                Result rr = exec(reader.get(), "SELECT inet_server_port(), pg_is_in_recovery(), count(*) FROM fo_kill");
                if (PQresultStatus(rr.get()) != PGRES_TUPLES_OK) {
                  answer = PQerrorMessage(reader.get());
                  if (PQstatus(reader.get()) != CONNECTION_OK) reader = connect(p.conninfo("postgres", "hars"));
                  return false;
                }
                answer = std::string(PQgetvalue(rr.get(), 0, 0)) + " " + PQgetvalue(rr.get(), 0, 1) + " " +
                         PQgetvalue(rr.get(), 0, 2);
                return answer == old_port + " t " + std::to_string(present.size());
              },
                         std::chrono::seconds(60)))
      << "last read: " << answer << "\n" << failover_lines(p);
  std::printf("[failover] the old leader %s (port %s) takes reads again %.1f s after the kill\n", old_member.c_str(),
              old_port.c_str(), seconds_since(killed));
  // Writes still go to the new leader only.
  EXPECT_EQ(try_exec(reader.get(), "INSERT INTO fo_kill VALUES (-1)"), "");
  EXPECT_NE(value(check.get(), "SHOW port"), old_port);
}

}  // namespace
}  // namespace pgopt::test
