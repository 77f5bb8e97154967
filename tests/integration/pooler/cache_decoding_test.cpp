// The result cache's invalidation from logical decoding (`[cache] invalidation = "logical"`,
// docs/result-cache.md) on the real cluster (wal_level = logical): writes the pooler never sees
// (directly to the primary, by a trigger, TRUNCATE) reach the cache; a rolled-back transaction
// does not; while the change stream is down nothing is served and nothing filled before the break
// is served after it; the staleness is measured and exported.
// Every test first proves the entry is a hit (SHOW CACHE's hits counter) so that seeing the new
// value afterwards can only come from an invalidation.
#include "admin_harness.hpp"
#include "harness.hpp"
#include "http_client.hpp"

namespace pgopt::test {
namespace {

constexpr const char* kStreamRow = "stream:pgopt_test";

PoolerOptions decoding_options(const std::string& extra_pooler = "", const std::string& extra_cache = "") {
  PoolerOptions o;
  o.pooler_extra = "admin_users = [\"postgres\"]\n" + extra_pooler;
  o.databases = "[databases.pgopt_test]\nhost = \"127.0.0.1\"\nport = " +
                std::to_string(ClusterEnv::instance().primary_port) +
                "\n\n[cache]\nenabled = true\ninvalidation = \"logical\"\n" + extra_cache +
                "[[cache.rules]]\nname = \"t\"\ntables = [\"dec_t\"]\nttl = \"60s\"\n";
  return o;
}

std::map<std::string, std::string> cache_row(const Pooler& p, const std::string& rule) {
  Conn adm = admin(p);
  auto rows = show(adm.get(), "SHOW CACHE").where({{"rule", rule}});
  return rows.empty() ? std::map<std::string, std::string>{} : rows.front();
}
int hits(const Pooler& p) {
  auto row = cache_row(p, "t");
  return row.count("hits") ? std::atoi(row["hits"].c_str()) : -1;
}
std::string stream_state(const Pooler& p) { return cache_row(p, kStreamRow)["stream"]; }

// The stream logs in as a pooled user: a client must have logged in first.
void wait_stream_up(const Pooler& p) {
  ASSERT_TRUE(eventually([&] { return stream_state(p) == "up"; }, std::chrono::seconds(15)))
      << cache_row(p, kStreamRow)["stream_detail"] << "\n"
      << p.log();
}

// Reads `sql` twice through `c`: the second must be a hit, and both `expected`.
void fill_and_hit(const Pooler& p, PGconn* c, const std::string& sql, const std::string& expected) {
  const int before = hits(p);
  EXPECT_EQ(value(c, sql), expected);
  EXPECT_EQ(value(c, sql), expected);
  EXPECT_EQ(hits(p), before + 1) << "the second read was not a cache hit: the test would prove nothing";
}

void direct_ok(const std::string& sql) {
  Conn d = direct();
  ok(d.get(), sql);
}

class CacheDecoding : public ::testing::Test {
 protected:
  void SetUp() override {
    Conn d = direct();
    ok(d.get(),
       "DROP TABLE IF EXISTS dec_t, dec_src, dec_other; DROP PUBLICATION IF EXISTS pgopt_cache;"
       "CREATE TABLE dec_t (id int PRIMARY KEY, v text); INSERT INTO dec_t VALUES (1, 'a'), (2, 'b');"
       "CREATE TABLE dec_src (id int); CREATE TABLE dec_other (id int);"
       "CREATE OR REPLACE FUNCTION dec_touch() RETURNS trigger LANGUAGE plpgsql AS "
       "$$BEGIN UPDATE dec_t SET v = 'trig' WHERE id = 1; RETURN NEW; END$$;"
       "CREATE TRIGGER dec_src_touch AFTER INSERT ON dec_src FOR EACH ROW EXECUTE FUNCTION dec_touch();"
       "CREATE PUBLICATION pgopt_cache FOR ALL TABLES");
  }
  void TearDown() override {
    Conn d = direct();
    ok(d.get(),
       "DROP TABLE IF EXISTS dec_t, dec_src, dec_other; DROP FUNCTION IF EXISTS dec_touch();"
       "DROP PUBLICATION IF EXISTS pgopt_cache");
    // A permanent slot left by a failed test would hold WAL for every later one.
    ASSERT_TRUE(eventually([&] {
      return value(d.get(), "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'pgopt_it_slot' AND active") == "0";
    }));
    ok(d.get(), "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'pgopt_it_slot'");
  }
  static constexpr const char* kRead = "SELECT v FROM dec_t WHERE id = 1";
  static constexpr const char* kCount = "SELECT count(*) FROM dec_t";
};

TEST_F(CacheDecoding, DirectInsertAndUpdateAreSeen) {
  Pooler p(decoding_options());
  Conn c = connect_ok(p.conninfo());
  wait_stream_up(p);
  fill_and_hit(p, c.get(), kRead, "a");
  fill_and_hit(p, c.get(), kCount, "2");
  direct_ok("UPDATE dec_t SET v = 'direct' WHERE id = 1");
  EXPECT_TRUE(eventually([&] { return value(c.get(), kRead) == "direct"; })) << p.log();
  direct_ok("INSERT INTO dec_t VALUES (3, 'c')");
  EXPECT_TRUE(eventually([&] { return value(c.get(), kCount) == "3"; })) << p.log();
}

TEST_F(CacheDecoding, AWriteByATriggerIsSeen) {
  Pooler p(decoding_options());
  Conn c = connect_ok(p.conninfo());
  wait_stream_up(p);
  fill_and_hit(p, c.get(), kRead, "a");
  // Through the pooler, to a table no cached statement reads: the trigger writes dec_t, which the
  // pooler's own write tracking cannot know.
  Conn writer = connect_ok(p.conninfo());
  ok(writer.get(), "INSERT INTO dec_src VALUES (1)");
  EXPECT_TRUE(eventually([&] { return value(c.get(), kRead) == "trig"; })) << p.log();
}

TEST_F(CacheDecoding, ADirectTruncateIsSeen) {
  Pooler p(decoding_options());
  Conn c = connect_ok(p.conninfo());
  wait_stream_up(p);
  fill_and_hit(p, c.get(), kCount, "2");
  direct_ok("TRUNCATE dec_t");
  EXPECT_TRUE(eventually([&] { return value(c.get(), kCount) == "0"; })) << p.log();
}

TEST_F(CacheDecoding, ARolledBackDirectTransactionDoesNotInvalidate) {
  Pooler p(decoding_options());
  Conn c = connect_ok(p.conninfo());
  wait_stream_up(p);
  fill_and_hit(p, c.get(), kRead, "a");
  const int decoded = std::atoi(cache_row(p, kStreamRow)["invalidations"].c_str());
  {
    Conn d = direct();
    ok(d.get(), "BEGIN");
    ok(d.get(), "UPDATE dec_t SET v = 'never' WHERE id = 1");
    ok(d.get(), "ROLLBACK");
  }
  // A later committed write elsewhere: once the stream has decoded it, it has passed the rollback.
  direct_ok("INSERT INTO dec_other VALUES (1)");
  ASSERT_TRUE(eventually(
      [&] { return std::atoi(cache_row(p, kStreamRow)["invalidations"].c_str()) > decoded; }))
      << p.log();
  const int before = hits(p);
  EXPECT_EQ(value(c.get(), kRead), "a");
  EXPECT_EQ(hits(p), before + 1) << "the rolled-back transaction invalidated the entry";
}

TEST_F(CacheDecoding, NothingIsServedWhileTheStreamIsDownNorFilledBeforeTheBreakAfterIt) {
  Pooler p(decoding_options());
  Conn c = connect_ok(p.conninfo());
  wait_stream_up(p);
  fill_and_hit(p, c.get(), kRead, "a");
  // Keep it down: without the publication the stream cannot come back.
  direct_ok("DROP PUBLICATION pgopt_cache");
  {
    Conn d = direct("postgres");
    ok(d.get(),
       "SELECT pg_terminate_backend(pid) FROM pg_stat_replication WHERE application_name = 'pgopt cache stream'");
  }
  ASSERT_TRUE(eventually([&] { return stream_state(p) == "down"; })) << p.log();
  const int before = hits(p);
  EXPECT_EQ(value(c.get(), kRead), "a");
  EXPECT_EQ(value(c.get(), kRead), "a");
  EXPECT_EQ(value(c.get(), kRead), "a");
  EXPECT_EQ(hits(p), before) << "served from the cache while the stream was down";
  EXPECT_TRUE(eventually([&] { return p.log().find("publication \"pgopt_cache\" does not exist") != std::string::npos; }))
      << p.log();
  // Back up: the entries filled before the break (and during it) are not served; new fills are.
  direct_ok("CREATE PUBLICATION pgopt_cache FOR ALL TABLES");
  wait_stream_up(p);
  EXPECT_EQ(value(c.get(), kRead), "a");
  EXPECT_EQ(hits(p), before) << "an entry filled before the break was served after it";
  EXPECT_EQ(value(c.get(), kRead), "a");
  EXPECT_EQ(hits(p), before + 1);
  direct_ok("UPDATE dec_t SET v = 'again' WHERE id = 1");
  EXPECT_TRUE(eventually([&] { return value(c.get(), kRead) == "again"; })) << p.log();
}

TEST_F(CacheDecoding, StalenessIsMeasuredAndExported) {
  const int port = quiet_port();
  Pooler p(decoding_options("metrics_port = " + std::to_string(port) + "\n"));
  ASSERT_TRUE(eventually([&] { return port_open(port); })) << p.log();
  Conn c = connect_ok(p.conninfo());
  wait_stream_up(p);
  fill_and_hit(p, c.get(), kRead, "a");
  direct_ok("UPDATE dec_t SET v = 'm' WHERE id = 1");
  ASSERT_TRUE(eventually([&] { return value(c.get(), kRead) == "m"; })) << p.log();
  const std::string page = "\n" + get(port, "/metrics").body;
  const std::string db = "{database=\"pgopt_test\"}";
  EXPECT_EQ(metric(page, "pgopt_cache_stream_up" + db), 1) << page;
  EXPECT_GE(metric(page, "pgopt_cache_invalidation_lag_seconds_count" + db), 1) << page;
  EXPECT_GE(metric(page, "pgopt_cache_stream_transactions_total" + db), 1) << page;
  // Same machine, an idle cluster: well under a second (the bench measures it properly).
  const double max_lag = metric(page, "pgopt_cache_invalidation_lag_max_seconds" + db);
  EXPECT_GE(max_lag, 0);
  EXPECT_LT(max_lag, 1.0) << page;
  EXPECT_GE(metric(page, "pgopt_cache_invalidation_lag_seconds_bucket{database=\"pgopt_test\",le=\"+Inf\"}"), 1)
      << page;
  auto row = cache_row(p, kStreamRow);
  EXPECT_EQ(row["stream"], "up");
  EXPECT_LT(std::atof(row["lag_max_ms"].c_str()), 1000.0);
}

// A configured slot_name is a permanent slot: created by the first process, reused (not an error)
// by the next, and left for the operator to drop; the default temporary slot leaves nothing.
TEST_F(CacheDecoding, APermanentSlotIsCreatedOnceAndReusedATemporaryOneLeavesNothing) {
  auto slots = [](const std::string& where) {
    Conn d = direct();
    return value(d.get(), "SELECT count(*) FROM pg_replication_slots WHERE " + where);
  };
  {
    Pooler p(decoding_options());
    Conn c = connect_ok(p.conninfo());
    wait_stream_up(p);
    EXPECT_EQ(slots("slot_name LIKE 'pgopt_cache_%' AND temporary"), "1");
  }
  EXPECT_TRUE(eventually([&] { return slots("slot_name LIKE 'pgopt_cache_%'") == "0"; }));
  for (int run = 0; run < 2; ++run) {
    Pooler p(decoding_options("", "slot_name = \"pgopt_it_slot\"\n"));
    Conn c = connect_ok(p.conninfo());
    wait_stream_up(p);
    EXPECT_EQ(slots("slot_name = 'pgopt_it_slot' AND NOT temporary"), "1") << "run " << run;
    fill_and_hit(p, c.get(), kRead, "a");
  }
  // Inactive once the process is gone: then it can be dropped.
  ASSERT_TRUE(eventually([&] { return slots("slot_name = 'pgopt_it_slot' AND NOT active") == "1"; }));
  direct_ok("SELECT pg_drop_replication_slot('pgopt_it_slot')");
}

}  // namespace
}  // namespace pgopt::test
