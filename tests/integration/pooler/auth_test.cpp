// Client and server authentication through the pooler: trust, md5 and SCRAM-SHA-256, each right and
// wrong, with plaintext, md5-hash and SCRAM-verifier entries in the auth file, and SCRAM passthrough.
#include "harness.hpp"

namespace pgopt::test {
namespace {

struct AuthCase {
  std::string name, auth_type, user, file_secret_key, password;
};

std::string secret(const std::string& key) {
  const auto& env = ClusterEnv::instance();
  if (key == "md5-plain") return env.get("PGOPT_MD5_PASSWORD");
  if (key == "md5-hash") return env.get("PGOPT_MD5_HASH");
  if (key == "scram-plain") return env.get("PGOPT_SCRAM_PASSWORD");
  if (key == "scram-verifier") return env.get("PGOPT_SCRAM_VERIFIER");
  return key;
}

class Auth : public ::testing::TestWithParam<AuthCase> {};

TEST_P(Auth, RightPasswordLogsInToClientAndServerWrongOneGets28P01) {
  const auto& c = GetParam();
  PoolerOptions o;
  o.auth_type = c.auth_type;
  o.users = "\"" + c.user + "\" \"" + secret(c.file_secret_key) + "\"\n";
  Pooler p(o);
  {
    Conn good = connect_ok(p.conninfo(c.user, "pgopt_test", "password=" + c.password));
    // The query runs on a server the pooler logged in to as this user with the file's secret.
    EXPECT_EQ(value(good.get(), "SELECT current_user"), c.user);
  }
  Conn bad = connect(p.conninfo(c.user, "pgopt_test", "password=wrong-" + c.password));
  EXPECT_EQ(PQstatus(bad.get()), CONNECTION_BAD);
  std::string msg = PQerrorMessage(bad.get());
  EXPECT_NE(msg.find("password authentication failed"), std::string::npos) << msg;
  // Each failure is logged with the client address and the SQLSTATE.
  EXPECT_TRUE(p.wait_log("authentication failed"));
  std::string log = p.log();
  EXPECT_NE(log.find(c.user + "@127.0.0.1:"), std::string::npos) << log;
  EXPECT_NE(log.find("28P01"), std::string::npos) << log;
}

INSTANTIATE_TEST_SUITE_P(
    Methods, Auth,
    ::testing::Values(AuthCase{"md5_plain_file", "md5", "md5_user", "md5-plain", "md5-secret"},
                      AuthCase{"md5_hash_file", "md5", "md5_user", "md5-hash", "md5-secret"},
                      AuthCase{"scram_plain_file", "scram-sha-256", "scram_user", "scram-plain", "scram-secret"},
                      // No plaintext anywhere: the server login reuses the client's SCRAM proof.
                      AuthCase{"scram_passthrough", "scram-sha-256", "scram_user", "scram-verifier", "scram-secret"},
                      // md5 auth_type, but a verifier entry can only be checked with SCRAM.
                      AuthCase{"scram_verifier_under_md5", "md5", "scram_user", "scram-verifier", "scram-secret"},
                      // A server that wants SCRAM while clients use md5 with a plaintext entry.
                      AuthCase{"md5_client_scram_server", "md5", "scram_user", "scram-plain", "scram-secret"}),
    [](const auto& info) { return info.param.name; });

TEST(AuthTrust, TrustNeedsNoPasswordAndServerTrustWorks) {
  PoolerOptions o;
  o.auth_type = "trust";
  Pooler p(o);
  Conn c = connect_ok(p.conninfo("trust_user", "pgopt_test", "password=anything"));
  EXPECT_EQ(value(c.get(), "SELECT current_user"), "trust_user");
}

TEST(AuthUnknown, UnknownUserGetsTheSameErrorAsAWrongPassword) {
  PoolerOptions o;
  o.auth_type = "md5";
  o.users = "\"md5_user\" \"md5-secret\"\n";
  Pooler p(o);
  Conn c = connect(p.conninfo("nobody", "pgopt_test", "password=x"));
  EXPECT_EQ(PQstatus(c.get()), CONNECTION_BAD);
  std::string msg = PQerrorMessage(c.get());
  EXPECT_NE(msg.find("password authentication failed for user \"nobody\""), std::string::npos) << msg;
  EXPECT_TRUE(p.wait_log("user is not in the auth file"));
}

TEST(AuthServer, WrongServerPasswordIsReportedToTheClient) {
  // The file's plaintext is accepted from the client but is not the server's password.
  PoolerOptions o;
  o.auth_type = "md5";
  o.users = "\"md5_user\" \"not-the-server-password\"\n";
  Pooler p(o);
  Conn c = connect(p.conninfo("md5_user", "pgopt_test", "password=not-the-server-password"));
  std::string err = PQstatus(c.get()) == CONNECTION_OK ? error_of(c.get(), "SELECT 1") : PQerrorMessage(c.get());
  EXPECT_FALSE(err.empty());
  EXPECT_NE(p.log().find("md5_user"), std::string::npos);
}

TEST(AuthFile, UsersFileIsReloadedOnSighup) {
  PoolerOptions o;
  o.auth_type = "md5";
  o.users = "\"md5_user\" \"md5-secret\"\n";
  Pooler p(o);
  Conn before = connect(p.conninfo("scram_user", "pgopt_test", "password=scram-secret"));
  EXPECT_EQ(PQstatus(before.get()), CONNECTION_BAD);
  std::ofstream(p.dir() / "users.txt") << "\"md5_user\" \"md5-secret\"\n\"scram_user\" \"scram-secret\"\n";
  p.signal(SIGHUP);
  ASSERT_TRUE(p.wait_log("configuration reloaded")) << p.log();
  // Each worker picks the new users up on its own after the log line: retry the login until one does.
  Conn after;
  EXPECT_TRUE(eventually([&] {
    after = connect(p.conninfo("scram_user", "pgopt_test", "password=scram-secret"));
    return PQstatus(after.get()) == CONNECTION_OK;
  })) << PQerrorMessage(after.get()) << p.log();
  EXPECT_EQ(value(after.get(), "SELECT current_user"), "scram_user");
}

// PgBouncer accepts `"user" ""` in the auth file for auth_type = trust; so does pgopt, and the
// same file under a password method lets nobody in with an empty password.
TEST(AuthFile, EmptySecretLogsInWithTrustOnly) {
  PoolerOptions o;
  o.auth_type = "trust";
  o.users = "\"trust_user\" \"\"\n";
  {
    Pooler p(o);
    Conn c = connect_ok(p.conninfo("trust_user", "pgopt_test"));
    EXPECT_EQ(value(c.get(), "SELECT current_user"), "trust_user");
  }
  o.auth_type = "md5";
  Pooler p(o);
  for (const char* pw : {"password=''", "password=x"}) {
    Conn c = connect(p.conninfo("trust_user", "pgopt_test", pw));
    EXPECT_EQ(PQstatus(c.get()), CONNECTION_BAD) << pw;
  }
  EXPECT_TRUE(p.wait_log("empty secret for this user"));
}

}  // namespace
}  // namespace pgopt::test
