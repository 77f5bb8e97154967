// Read/write splitting across a reload (SIGHUP): function lists, the replica list and the switch
// itself take effect for clients already connected, without a restart.
#include "split_harness.hpp"

namespace pgopt::test {
namespace {

using namespace std::chrono_literals;
using split::primary_port;
using split::replica_port;

class SplitReload : public split::ReplicaFixture {
 protected:
  static void SetUpTestSuite() {
    Conn d = direct();
    ok(d.get(), "CREATE OR REPLACE FUNCTION split_reload_fn() RETURNS int LANGUAGE sql AS 'SELECT 1'");
    ASSERT_TRUE(split::replica_caught_up());
  }

  static int port_of_call(PGconn* c) { return split::port_of(c, "SELECT inet_server_port() + 0 * split_reload_fn()"); }

  static void reload(Pooler& p, const split::SplitConfig& cfg) {
    const auto before = count(p.log(), "configuration reloaded");
    p.write_config(split::options(cfg));
    p.signal(SIGHUP);
    ASSERT_TRUE(eventually([&] { return count(p.log(), "configuration reloaded") > before; }, 5s)) << p.log();
  }
  static size_t count(const std::string& text, const std::string& needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
  }
};

TEST_F(SplitReload, FunctionListsApplyToConnectedClients) {
  split::SplitConfig cfg;
  Pooler p(split::options(cfg));
  Conn c = connect_ok(p.conninfo());
  ASSERT_TRUE(split::reads_reach_replica(c.get())) << p.log();
  EXPECT_EQ(port_of_call(c.get()), primary_port());  // a user function nobody vouched for

  cfg.db_extra = "read_only_functions = [\"split_reload_fn\"]\n";
  reload(p, cfg);
  EXPECT_TRUE(eventually([&] { return port_of_call(c.get()) == replica_port(); }, 5s)) << p.log();

  cfg.db_extra = "write_functions = [\"split_reload_fn\"]\n";
  cfg.pooler_extra = "unknown_functions_are_reads = true\n";
  reload(p, cfg);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(port_of_call(c.get()), primary_port());
}

TEST_F(SplitReload, ReplicaListAndSwitchApplyToConnectedClients) {
  split::SplitConfig cfg;
  Pooler p(split::options(cfg));
  Conn c = connect_ok(p.conninfo());
  ASSERT_TRUE(split::reads_reach_replica(c.get())) << p.log();

  // The replica list now names a server that is not there: reads fall back to the primary.
  split::SplitConfig gone = cfg;
  gone.replica = dead_port();
  reload(p, gone);
  EXPECT_TRUE(eventually([&] { return split::read_port(c.get()) == primary_port(); }, 5s)) << p.log();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(split::read_port(c.get()), primary_port());

  // Back to the real replica: a new poller finds it and reads return.
  reload(p, cfg);
  EXPECT_TRUE(split::reads_reach_replica(c.get(), 10s)) << p.log();

  // Splitting switched off: everything on the primary, for this client too.
  split::SplitConfig off = cfg;
  off.split = false;
  reload(p, off);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(split::read_port(c.get()), primary_port());
  // And a route setting is now the server's business (a placeholder setting), not the pooler's.
  ok(c.get(), "SET pgopt.route = 'replica'");
  EXPECT_EQ(split::read_port(c.get()), primary_port());
}

}  // namespace
}  // namespace pgopt::test
