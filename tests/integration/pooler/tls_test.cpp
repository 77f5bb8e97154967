// TLS through the pooler with real libpq clients and a throwaway CA made by the openssl CLI at test
// time: client side (modes, verify-full, client certificates, SCRAM, reload on SIGHUP) and server
// side (a separate PostgreSQL instance with ssl = on).
#include "harness.hpp"
#include "waits.hpp"

namespace pgopt::test {
namespace {

namespace fs = std::filesystem;

// A CA, a server certificate for 127.0.0.1 (and, unless `ip_san` is false, only the name
// "localhost") and a client certificate for user postgres, as DIR/NAME-{ca,server,client}.{crt,key}.
void make_pki(const fs::path& dir, const std::string& name, bool ip_san = true) {
  const std::string p = (dir / name).string();
  std::ofstream(p + "-ext.cnf") << "subjectAltName=" << (ip_san ? "IP:127.0.0.1,DNS:localhost" : "DNS:localhost")
                                << "\n";
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
  std::string cmd = "set -e; cd '" + dir.string() + "'; umask 077;" +
                    "openssl req -x509" + ec + "-keyout " + p + "-ca.key -out " + p + "-ca.crt -days 2 -subj '/CN=pgopt test CA " +
                    name + "';" + "openssl req" + ec + "-keyout " + p + "-server.key -out " + p +
                    "-server.csr -subj '/CN=pgopt test server';" + "openssl x509 -req -in " + p + "-server.csr -CA " + p +
                    "-ca.crt -CAkey " + p + "-ca.key -CAcreateserial -days 2 -extfile " + p + "-ext.cnf -out " + p +
                    "-server.crt;" + "openssl req" + ec + "-keyout " + p + "-client.key -out " + p +
                    "-client.csr -subj '/CN=postgres';" + "openssl x509 -req -in " + p + "-client.csr -CA " + p +
                    "-ca.crt -CAkey " + p + "-ca.key -CAcreateserial -days 2 -out " + p + "-client.crt;" +
                    "chmod 644 " + p + "-ca.crt " + p + "-server.crt " + p + "-client.crt";
  int st = -1;
  std::string out = run(cmd, &st);
  ASSERT_EQ(st, 0) << out;
}

// [pooler] lines for client TLS with the certificate files named NAME-server.* in the config dir.
std::string client_tls(const std::string& mode, const std::string& name = "a", const std::string& ca = "") {
  std::string s = "client_tls_mode = \"" + mode + "\"\nclient_tls_cert_file = \"" + name +
                  "-server.crt\"\nclient_tls_key_file = \"" + name + "-server.key\"\n";
  if (!ca.empty()) s += "client_tls_ca_file = \"" + ca + "-ca.crt\"\n";
  return s;
}

int& pki_counter() {
  static int c = 0;
  return c;
}

std::string file(const fs::path& dir, const std::string& name) { return (dir / name).string(); }

// Certificates live next to the config: relative names resolve against its directory.
std::unique_ptr<Pooler> start_with_pki(PoolerOptions o, fs::path& pki, const std::vector<std::string>& names = {"a"}) {
  pki = fs::temp_directory_path() / ("pgopt-tls-" + std::to_string(::getpid()) + "-" + std::to_string(pki_counter()++));
  fs::create_directories(pki);
  for (auto& n : names) make_pki(pki, n);
  // Absolute names, so the config works wherever the harness puts it.
  std::string text = o.pooler_extra;
  for (const std::string key : {"-server.crt", "-server.key", "-ca.crt"}) {
    for (auto& n : names) {
      const std::string rel = "\"" + n + key + "\"";
      for (size_t at = text.find(rel); at != std::string::npos; at = text.find(rel, at + 1))
        text.replace(at, rel.size(), "\"" + file(pki, n + key) + "\"");
    }
  }
  o.pooler_extra = text;
  return std::make_unique<Pooler>(o);
}

bool ssl_in_use(PGconn* c) { return c && PQstatus(c) == CONNECTION_OK && PQsslInUse(c) == 1; }

// Cancels a long statement with libpq's PQcancel, which sends the CancelRequest in plaintext on a
// new connection even when the session uses TLS. Returns the statement's SQLSTATE.
// `server_port`: the PostgreSQL the statement runs on (0: the shared cluster's primary).
std::string cancelled_sleep(PGconn* c, int server_port = 0) {
  PGcancel* cancel = PQgetCancel(c);
  std::thread t([cancel, server_port] {
    // The cancel has something to stop (else it is lost and the statement runs its 10 s).
    EXPECT_TRUE(wait_running("SELECT pg_sleep(10)", 1, server_port));
    char err[256];
    PQcancel(cancel, err, sizeof err);
  });
  Result r = exec(c, "SELECT pg_sleep(10)");
  t.join();
  PQfreeCancel(cancel);
  return sqlstate(r.get());
}

class TlsClient : public ::testing::Test {
 protected:
  void TearDown() override {
    pooler.reset();
    std::error_code ec;
    if (!pki.empty()) fs::remove_all(pki, ec);
  }
  std::string root(const std::string& name) const { return file(pki, name + "-ca.crt"); }
  fs::path pki;
  std::unique_ptr<Pooler> pooler;
};

TEST_F(TlsClient, RequireAcceptsLibpqSslmodeRequireWithTls12OrNewer) {
  PoolerOptions o;
  o.pooler_extra = client_tls("require");
  pooler = start_with_pki(o, pki);
  Conn c = connect_ok(pooler->conninfo("postgres", "pgopt_test", "sslmode=require"));
  ASSERT_TRUE(ssl_in_use(c.get()));
  std::string proto = PQsslAttribute(c.get(), "protocol");
  EXPECT_TRUE(proto == "TLSv1.2" || proto == "TLSv1.3") << proto;
  // Queries run through the pooler on a server, replies come back encrypted; big ones too.
  EXPECT_EQ(value(c.get(), "SELECT 6 * 7"), "42");
  EXPECT_EQ(value(c.get(), "SELECT length(string_agg(md5(g::text), '')) FROM generate_series(1, 20000) g"),
            "640000");
  EXPECT_EQ(value(c.get(), "SELECT sum(length(repeat('x', g))) FROM generate_series(1, 2000) g"), "2001000");
  Result big = exec(c.get(), "SELECT repeat(md5(g::text), 50) FROM generate_series(1, 3000) g");
  ASSERT_EQ(PQresultStatus(big.get()), PGRES_TUPLES_OK) << PQerrorMessage(c.get());
  EXPECT_EQ(PQntuples(big.get()), 3000);
  EXPECT_EQ(std::string(PQgetvalue(big.get(), 2999, 0)).size(), 1600u);
  // A plaintext cancel request is still accepted under require (libpq sends them that way).
  EXPECT_EQ(cancelled_sleep(c.get()), "57014");
  EXPECT_EQ(value(c.get(), "SELECT 1"), "1");
}

TEST_F(TlsClient, RequireRefusesAPlaintextClientWith28000) {
  PoolerOptions o;
  o.pooler_extra = client_tls("require");
  pooler = start_with_pki(o, pki);
  Conn c = connect(pooler->conninfo("postgres", "pgopt_test", "sslmode=disable"));
  EXPECT_EQ(PQstatus(c.get()), CONNECTION_BAD);
  std::string msg = PQerrorMessage(c.get());
  EXPECT_NE(msg.find("SSL required"), std::string::npos) << msg;
  EXPECT_TRUE(pooler->wait_log("(28000)")) << pooler->log();
  // libpq's default (prefer) upgrades and gets in.
  Conn p = connect_ok(pooler->conninfo("postgres", "pgopt_test", "sslmode=prefer"));
  EXPECT_TRUE(ssl_in_use(p.get()));
}

TEST_F(TlsClient, PreferAndAllowAcceptBothPlaintextAndTls) {
  for (const std::string mode : {"prefer", "allow"}) {
    PoolerOptions o;
    o.pooler_extra = client_tls(mode);
    TearDown();
    pooler = start_with_pki(o, pki);
    Conn plain = connect_ok(pooler->conninfo("postgres", "pgopt_test", "sslmode=disable"));
    EXPECT_FALSE(ssl_in_use(plain.get())) << mode;
    EXPECT_EQ(value(plain.get(), "SELECT 1"), "1");
    Conn enc = connect_ok(pooler->conninfo("postgres", "pgopt_test", "sslmode=require"));
    EXPECT_TRUE(ssl_in_use(enc.get())) << mode;
    EXPECT_EQ(value(enc.get(), "SELECT 2"), "2");
  }
}

TEST_F(TlsClient, DisableAnswersNSoPreferFallsBackAndRequireFails) {
  pooler = std::make_unique<Pooler>(PoolerOptions{});
  Conn prefer = connect_ok(pooler->conninfo("postgres", "pgopt_test", "sslmode=prefer"));
  EXPECT_FALSE(ssl_in_use(prefer.get()));
  EXPECT_EQ(value(prefer.get(), "SELECT 1"), "1");
  Conn require = connect(pooler->conninfo("postgres", "pgopt_test", "sslmode=require"));
  EXPECT_EQ(PQstatus(require.get()), CONNECTION_BAD);
  std::string msg = PQerrorMessage(require.get());
  EXPECT_NE(msg.find("does not support SSL"), std::string::npos) << msg;
}

TEST_F(TlsClient, ScramSha256OverTlsEndToEndWithPlaintextAndPassthrough) {
  const auto& env = ClusterEnv::instance();
  for (const std::string& secret : {env.get("PGOPT_SCRAM_PASSWORD"), env.get("PGOPT_SCRAM_VERIFIER")}) {
    PoolerOptions o;
    o.auth_type = "scram-sha-256";
    o.users = "\"scram_user\" \"" + secret + "\"\n";
    o.pooler_extra = client_tls("require");
    TearDown();
    pooler = start_with_pki(o, pki);
    Conn c = connect_ok(pooler->conninfo("scram_user", "pgopt_test", "sslmode=require password=scram-secret"));
    ASSERT_TRUE(ssl_in_use(c.get()));
    // The server login (SCRAM against the cluster, passthrough for the verifier) worked too.
    EXPECT_EQ(value(c.get(), "SELECT current_user"), "scram_user");
    Conn bad = connect(pooler->conninfo("scram_user", "pgopt_test", "sslmode=require password=wrong"));
    EXPECT_EQ(PQstatus(bad.get()), CONNECTION_BAD);
    EXPECT_NE(std::string(PQerrorMessage(bad.get())).find("password authentication failed"), std::string::npos);
  }
}

TEST_F(TlsClient, VerifyFullWithTheTestCaAndIpSanSucceedsAnotherCaFails) {
  PoolerOptions o;
  o.pooler_extra = client_tls("require");
  pooler = start_with_pki(o, pki, {"a", "b"});
  Conn good = connect_ok(pooler->conninfo("postgres", "pgopt_test", "sslmode=verify-full sslrootcert=" + root("a")));
  EXPECT_TRUE(ssl_in_use(good.get()));
  EXPECT_EQ(value(good.get(), "SELECT 1"), "1");
  Conn wrong = connect(pooler->conninfo("postgres", "pgopt_test", "sslmode=verify-full sslrootcert=" + root("b")));
  EXPECT_EQ(PQstatus(wrong.get()), CONNECTION_BAD);
  std::string msg = PQerrorMessage(wrong.get());
  EXPECT_NE(msg.find("certificate verify failed"), std::string::npos) << msg;
}

TEST_F(TlsClient, ClientCertificatesAreCheckedWhenSentNotDemanded) {
  PoolerOptions o;
  o.pooler_extra = client_tls("require", "a", "a");
  pooler = start_with_pki(o, pki, {"a", "b"});
  auto with_cert = [&](const std::string& name) {
    return pooler->conninfo("postgres", "pgopt_test",
                            "sslmode=require sslcert=" + file(pki, name + "-client.crt") +
                                " sslkey=" + file(pki, name + "-client.key"));
  };
  Conn signed_by_ca = connect_ok(with_cert("a"));
  EXPECT_TRUE(ssl_in_use(signed_by_ca.get()));
  // No certificate at all: accepted (client_tls_ca_file verifies, it does not require).
  Conn none = connect_ok(pooler->conninfo("postgres", "pgopt_test", "sslmode=require sslcert=/nonexistent"));
  EXPECT_TRUE(ssl_in_use(none.get()));
  // A certificate from another CA: the handshake fails.
  Conn other = connect(with_cert("b"));
  EXPECT_EQ(PQstatus(other.get()), CONNECTION_BAD);
  EXPECT_TRUE(pooler->wait_log("TLS handshake failed")) << pooler->log();
}

TEST_F(TlsClient, SighupReloadsCertificatesAndABadKeyKeepsTheOldOnes) {
  PoolerOptions o;
  o.pooler_extra = client_tls("require", "live");
  // The config names live-server.*; "a" and "b" are copied over it.
  pki = fs::temp_directory_path() / ("pgopt-tls-" + std::to_string(::getpid()) + "-reload");
  fs::create_directories(pki);
  make_pki(pki, "a");
  make_pki(pki, "b");
  auto install = [&](const std::string& from) {
    for (const std::string ext : {"-server.crt", "-server.key"})
      fs::copy_file(pki / (from + ext), pki / ("live" + ext), fs::copy_options::overwrite_existing);
  };
  install("a");
  std::string extra = o.pooler_extra;
  for (const std::string ext : {"-server.crt", "-server.key"}) {
    auto at = extra.find("\"live" + ext + "\"");
    extra.replace(at, ext.size() + 6, "\"" + file(pki, "live" + ext) + "\"");
  }
  o.pooler_extra = extra;
  pooler = std::make_unique<Pooler>(o);
  auto verify_with = [&](const std::string& ca) {
    return connect(pooler->conninfo("postgres", "pgopt_test", "sslmode=verify-full sslrootcert=" + root(ca)));
  };
  Conn before = verify_with("a");
  ASSERT_EQ(PQstatus(before.get()), CONNECTION_OK) << PQerrorMessage(before.get());
  EXPECT_EQ(PQstatus(verify_with("b").get()), CONNECTION_BAD);

  install("b");
  pooler->signal(SIGHUP);
  ASSERT_TRUE(pooler->wait_log("configuration reloaded")) << pooler->log();
  {
    Conn after = verify_with("b");
    ASSERT_EQ(PQstatus(after.get()), CONNECTION_OK) << PQerrorMessage(after.get());
    EXPECT_EQ(value(after.get(), "SELECT 1"), "1");
    EXPECT_EQ(PQstatus(verify_with("a").get()), CONNECTION_BAD);
  }
  // A connection made before the reload keeps its session.
  EXPECT_EQ(value(before.get(), "SELECT 3"), "3");

  // A key file that does not exist: the reload fails and the running certificate stays.
  std::string broken = pooler->config_text(o);
  auto at = broken.find(file(pki, "live-server.key"));
  ASSERT_NE(at, std::string::npos);
  broken.replace(at, file(pki, "live-server.key").size(), file(pki, "missing.key"));
  pooler->write_raw_config(broken);
  pooler->signal(SIGHUP);
  ASSERT_TRUE(pooler->wait_log("reload failed")) << pooler->log();
  EXPECT_NE(pooler->log().find("client_tls_key_file"), std::string::npos) << pooler->log();
  Conn still = verify_with("b");
  ASSERT_EQ(PQstatus(still.get()), CONNECTION_OK) << PQerrorMessage(still.get());
  EXPECT_TRUE(ssl_in_use(still.get()));
}

TEST(TlsStartup, AMissingCertificateIsAClearErrorAndExitStatus1) {
  fs::path dir = fs::temp_directory_path() / ("pgopt-tls-start-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "pgopt.toml") << "[pooler]\nauth_type = \"trust\"\nlisten_port = " << free_port()
                                    << "\nclient_tls_mode = \"require\"\nclient_tls_cert_file = \"nope.crt\"\n"
                                       "client_tls_key_file = \"nope.key\"\n[databases.x]\nhost = \"127.0.0.1\"\n";
  int st = -1;
  std::string out = run(std::string(PGOPT_BINARY) + " pool --config " + (dir / "pgopt.toml").string(), &st);
  EXPECT_EQ(st, 1) << out;
  EXPECT_NE(out.find("client_tls_cert_file \"" + (dir / "nope.crt").string() + "\""), std::string::npos) << out;
  st = -1;
  out = run(std::string(PGOPT_BINARY) + " check-config " + (dir / "pgopt.toml").string(), &st);
  EXPECT_EQ(st, 1) << out;
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// ---- pooler -> server -------------------------------------------------------------------------

// A one-off PostgreSQL with ssl = on and NAME-server.* as its certificate; stopped (by its own
// postmaster.pid, through pg_ctl) and deleted when the test ends.
class TlsServerInstance {
 public:
  TlsServerInstance(const fs::path& pki, const std::string& name) {
    const auto& env = ClusterEnv::instance();
    port = free_port();
    const std::string bin = env.get("PGOPT_PG_BIN");
    const bool root = ::geteuid() == 0;
    as_ = root ? "runuser -u pgopt-test -- " : "";
    std::string out = run("mktemp -d /tmp/pgopt-tls-pg.XXXXXX");
    dir_ = out.substr(0, out.find('\n'));
    const std::string data = dir_ + "/data";
    std::string cmd = "set -e; chmod 755 " + dir_ + (root ? "; chown pgopt-test " + dir_ : "") + "; " + as_ + bin +
                      "/initdb -D " + data + " -U postgres --auth=trust -N >" + dir_ + "/initdb.log 2>&1; " +
                      "install -m 600 " + (root ? "-o pgopt-test " : "") + file(pki, name + "-server.key") + " " +
                      data + "/server.key; install -m 644 " + (root ? "-o pgopt-test " : "") +
                      file(pki, name + "-server.crt") + " " + data + "/server.crt; " + "printf \"%s\\n\" " +
                      "\"listen_addresses = '127.0.0.1'\" \"port = " + std::to_string(port) + "\" " +
                      "\"unix_socket_directories = '" + dir_ + "'\" \"ssl = on\" \"fsync = off\" " +
                      "\"max_connections = 30\" \"shared_buffers = 16MB\" >> " + data + "/postgresql.conf; " +
                      // TLS only: a plaintext connection is refused by the server itself.
                      "printf \"%s\\n\" \"local all all trust\" \"hostssl all all 127.0.0.1/32 trust\" > " + data +
                      "/pg_hba.conf; " + as_ + bin + "/pg_ctl -D " + data + " -l " + dir_ +
                      "/server.log -w -t 60 start >/dev/null";
    int st = -1;
    out = run(cmd, &st);
    started = st == 0;
    if (!started) ADD_FAILURE() << out << run("cat " + dir_ + "/initdb.log " + dir_ + "/server.log");
    if (started) run(as_ + bin + "/psql -X -q -h 127.0.0.1 -p " + std::to_string(port) +
                     " -U postgres -d postgres -c 'CREATE DATABASE pgopt_test'");
  }
  ~TlsServerInstance() {
    const auto& env = ClusterEnv::instance();
    if (started)
      run(as_ + env.get("PGOPT_PG_BIN") + "/pg_ctl -D " + dir_ + "/data -m immediate -w -t 30 stop");
    if (dir_.rfind("/tmp/pgopt-tls-pg.", 0) == 0) run("rm -rf " + dir_);
  }
  int port = 0;
  bool started = false;

 private:
  std::string dir_, as_;
};

std::string database_on(int port, const std::string& host = "127.0.0.1") {
  return "[databases.pgopt_test]\nhost = \"" + host + "\"\nport = " + std::to_string(port) + "\n";
}

// What the server says about the connection the pooler runs this client's statement on.
std::string server_ssl(PGconn* c) { return value(c, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"); }

TEST_F(TlsClient, ServerTlsRequireAndVerifyFullReachATlsOnlyServer) {
  pki = fs::temp_directory_path() / ("pgopt-tls-" + std::to_string(::getpid()) + "-server");
  fs::create_directories(pki);
  make_pki(pki, "a");
  make_pki(pki, "b");
  TlsServerInstance server(pki, "a");
  ASSERT_TRUE(server.started);
  struct Case {
    std::string mode, ca, host;
    bool ok;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"prefer", "", "127.0.0.1", true, ""},
      {"require", "", "127.0.0.1", true, ""},
      {"verify-ca", "a", "127.0.0.1", true, ""},
      {"verify-full", "a", "127.0.0.1", true, ""},
      {"verify-full", "a", "localhost", true, ""},
      {"verify-ca", "b", "127.0.0.1", false, "certificate verify failed"},
      {"verify-full", "b", "127.0.0.1", false, "certificate verify failed"},
      // The server only accepts TLS: disable gets the server's own refusal.
      {"disable", "", "127.0.0.1", false, "no encryption"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.mode + " ca=" + c.ca + " host=" + c.host);
    PoolerOptions o;
    o.pooler_extra = "server_tls_mode = \"" + c.mode + "\"\n";
    if (!c.ca.empty()) o.pooler_extra += "server_tls_ca_file = \"" + file(pki, c.ca + "-ca.crt") + "\"\n";
    o.databases = database_on(server.port, c.host);
    Pooler p(o);
    Conn conn = connect(p.conninfo());
    if (c.ok) {
      ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK) << PQerrorMessage(conn.get()) << p.log();
      EXPECT_EQ(server_ssl(conn.get()), "t");
    } else {
      EXPECT_EQ(PQstatus(conn.get()), CONNECTION_BAD);
      std::string msg = PQerrorMessage(conn.get());
      EXPECT_NE(msg.find(c.error), std::string::npos) << msg;
    }
  }
}

TEST_F(TlsClient, ServerVerifyFullChecksTheHostNameVerifyCaDoesNot) {
  pki = fs::temp_directory_path() / ("pgopt-tls-" + std::to_string(::getpid()) + "-names");
  fs::create_directories(pki);
  make_pki(pki, "nameonly", false);  // DNS:localhost only, no IP entry
  TlsServerInstance server(pki, "nameonly");
  ASSERT_TRUE(server.started);
  for (const std::string mode : {"verify-ca", "verify-full"}) {
    PoolerOptions o;
    o.pooler_extra =
        "server_tls_mode = \"" + mode + "\"\nserver_tls_ca_file = \"" + file(pki, "nameonly-ca.crt") + "\"\n";
    o.databases = database_on(server.port, "127.0.0.1");
    Pooler p(o);
    Conn conn = connect(p.conninfo());
    if (mode == "verify-ca") {
      ASSERT_EQ(PQstatus(conn.get()), CONNECTION_OK) << PQerrorMessage(conn.get());
      EXPECT_EQ(server_ssl(conn.get()), "t");
    } else {
      EXPECT_EQ(PQstatus(conn.get()), CONNECTION_BAD);
      std::string msg = PQerrorMessage(conn.get());
      EXPECT_NE(msg.find("certificate verify failed"), std::string::npos) << msg;
      EXPECT_NE(msg.find("127.0.0.1"), std::string::npos) << msg;
    }
  }
}

TEST_F(TlsClient, ServerTlsSessionSurvivesMovingBetweenWorkersAndClientTlsOnTop) {
  pki = fs::temp_directory_path() / ("pgopt-tls-" + std::to_string(::getpid()) + "-move");
  fs::create_directories(pki);
  make_pki(pki, "a");
  TlsServerInstance server(pki, "a");
  ASSERT_TRUE(server.started);
  PoolerOptions o;
  o.workers = 2;
  o.pool_size = 1;  // one server connection, handed to clients on both workers in turn
  o.pooler_extra = "server_tls_mode = \"verify-full\"\nserver_tls_ca_file = \"" + file(pki, "a-ca.crt") +
                   "\"\nclient_tls_mode = \"require\"\nclient_tls_cert_file = \"" + file(pki, "a-server.crt") +
                   "\"\nclient_tls_key_file = \"" + file(pki, "a-server.key") + "\"\n";
  o.databases = database_on(server.port);
  Pooler p(o);
  std::vector<Conn> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(connect_ok(p.conninfo("postgres", "pgopt_test", "sslmode=require")));
    ASSERT_TRUE(ssl_in_use(clients.back().get()));
  }
  std::string pid = value(clients[0].get(), "SELECT pg_backend_pid()");
  for (int round = 0; round < 25; ++round) {
    for (auto& c : clients) {
      // Same backend every time (the one TLS connection, rebound to each client's worker).
      Result r = exec(c.get(), "SELECT pg_backend_pid(), ssl, length(repeat('y', 100000)) FROM pg_stat_ssl "
                               "WHERE pid = pg_backend_pid()");
      ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQerrorMessage(c.get()) << p.log();
      EXPECT_EQ(std::string(PQgetvalue(r.get(), 0, 0)), pid);
      EXPECT_EQ(std::string(PQgetvalue(r.get(), 0, 1)), "t");
      EXPECT_EQ(std::string(PQgetvalue(r.get(), 0, 2)), "100000");
    }
  }
  // The pooler's cancel reaches the TLS-only server (cancel requests are not subject to hostssl).
  EXPECT_EQ(cancelled_sleep(clients[1].get(), server.port), "57014");
  EXPECT_EQ(value(clients[1].get(), "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"), "t");
}

TEST(TlsServer, RequireAgainstAServerWithoutTlsFailsClearly) {
  PoolerOptions o;
  o.pooler_extra = "server_tls_mode = \"require\"\n";  // the shared test cluster runs without ssl
  Pooler p(o);
  Conn c = connect(p.conninfo());
  EXPECT_EQ(PQstatus(c.get()), CONNECTION_BAD);
  std::string msg = PQerrorMessage(c.get());
  EXPECT_NE(msg.find("does not accept TLS connections"), std::string::npos) << msg;
  EXPECT_NE(msg.find("server_tls_mode is \"require\""), std::string::npos) << msg;
  // prefer (the default) falls back to plaintext on the same server.
  PoolerOptions d;
  d.pooler_extra = "server_tls_mode = \"prefer\"\n";
  Pooler q(d);
  Conn ok = connect_ok(q.conninfo());
  EXPECT_EQ(server_ssl(ok.get()), "f");
}

}  // namespace
}  // namespace pgopt::test
