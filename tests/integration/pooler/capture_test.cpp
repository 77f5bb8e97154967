// Workload capture through a real pooler: SHOW QUERIES counts per fingerprint for simple and
// extended-protocol traffic, the capture file and its samples (which never reach the log or SHOW),
// capture_samples = false, capture = false, and the slow-query log.
#include "admin_harness.hpp"

namespace pgopt::test {
namespace {

const std::string kTable = "capture_it_" + std::to_string(::getpid());

class CaptureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Conn d = direct();
    ok(d.get(), "DROP TABLE IF EXISTS " + kTable);
    ok(d.get(), "CREATE TABLE " + kTable + " (id int PRIMARY KEY, v text)");
    ok(d.get(), "INSERT INTO " + kTable + " SELECT g, 'v' || g FROM generate_series(1, 10) g");
  }
  void TearDown() override {
    Conn d = direct();
    ok(d.get(), "DROP TABLE IF EXISTS " + kTable);
  }
};

PoolerOptions capture_options(const std::string& extra = "") {
  PoolerOptions o;
  o.pooler_extra = "admin_users = [\"postgres\"]\n" + extra;
  return o;
}

// SHOW QUERIES rows by normalized query text.
std::map<std::string, std::map<std::string, std::string>> queries(PGconn* adm) {
  std::map<std::string, std::map<std::string, std::string>> out;
  for (auto& r : show(adm, "SHOW QUERIES").rows) out[r["query"]] = r;
  return out;
}

// Known traffic: simple queries with literals (one multi-statement string), extended protocol with
// the unnamed statement and a named one (PQprepare, answered by the pooler before any server), errors.
void run_traffic(PGconn* c) {
  for (int id = 1; id <= 5; ++id) ok(c, "SELECT * FROM " + kTable + " WHERE id = " + std::to_string(id));
  ok(c, "SELECT * FROM " + kTable + " WHERE id = 7; SELECT count(*) FROM " + kTable);
  ok(c, "SELECT v FROM " + kTable + " WHERE v = 'secret-literal-4711'");
  for (int i = 0; i < 3; ++i) {
    const char* p[1] = {"7"};
    Result r(PQexecParams(c, ("SELECT v FROM " + kTable + " WHERE id > $1").c_str(), 1, nullptr, p, nullptr, nullptr, 0));
    EXPECT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQerrorMessage(c);
    EXPECT_EQ(PQntuples(r.get()), 3);
  }
  Result prep(PQprepare(c, "ins", ("INSERT INTO " + kTable + " VALUES ($1, $2)").c_str(), 2, nullptr));
  ASSERT_EQ(PQresultStatus(prep.get()), PGRES_COMMAND_OK) << PQerrorMessage(c);
  for (int i = 0; i < 4; ++i) {
    std::string id = std::to_string(100 + i);
    const char* p[2] = {id.c_str(), "x"};
    Result r(PQexecPrepared(c, "ins", 2, p, nullptr, nullptr, 0));
    EXPECT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK) << PQerrorMessage(c);
  }
  for (int i = 0; i < 2; ++i) EXPECT_EQ(error_of(c, "SELECT 1/0 FROM " + kTable + " WHERE id = 3"), "22012");
}

TEST_F(CaptureTest, ShowQueriesCountsPerFingerprint) {
  Pooler p(capture_options());
  Conn c = connect_ok(p.conninfo());
  run_traffic(c.get());
  Conn adm = admin(p);
  auto q = queries(adm.get());

  auto& by_id = q["SELECT * FROM " + kTable + " WHERE id = $1"];
  EXPECT_EQ(by_id["calls"], "6");
  EXPECT_EQ(by_id["rows"], "6");
  EXPECT_EQ(by_id["errors"], "0");
  EXPECT_EQ(by_id["primary_calls"], "6");
  EXPECT_EQ(by_id["replica_calls"], "0");
  EXPECT_EQ(by_id["fingerprint"].size(), 16u);
  EXPECT_EQ(q["SELECT count(*) FROM " + kTable]["calls"], "1");
  auto& ext = q["SELECT v FROM " + kTable + " WHERE id > $1"];
  EXPECT_EQ(ext["calls"], "3");
  EXPECT_EQ(ext["rows"], "9");
  auto& ins = q["INSERT INTO " + kTable + " VALUES ($1, $2)"];
  EXPECT_EQ(ins["calls"], "4");
  EXPECT_EQ(ins["rows"], "4");
  auto& div = q["SELECT $1/$2 FROM " + kTable + " WHERE id = $3"];
  EXPECT_EQ(div["calls"], "2");
  EXPECT_EQ(div["errors"], "2");
  EXPECT_EQ(q["SELECT v FROM " + kTable + " WHERE v = $1"]["calls"], "1");

  // Times: mean = total / calls, p95 and mean within max.
  const double total = std::stod(by_id["total_time"]), mean = std::stod(by_id["mean_time"]);
  const double p95 = std::stod(by_id["p95_time"]), mx = std::stod(by_id["max_time"]);
  EXPECT_GT(total, 0);
  EXPECT_NEAR(mean, total / 6, 0.002);
  EXPECT_LE(p95, mx);
  EXPECT_LE(mean, mx);

  // Ordered by total_time; never a literal, never the samples.
  Result raw = exec(adm.get(), "SHOW QUERIES");
  ASSERT_EQ(PQresultStatus(raw.get()), PGRES_TUPLES_OK);
  EXPECT_EQ(PQnfields(raw.get()), 13);  // the last is cache_hits
  EXPECT_EQ(PQfnumber(raw.get(), "samples"), -1);
  double prev = 1e300;
  for (int i = 0; i < PQntuples(raw.get()); ++i) {
    const double t = std::stod(PQgetvalue(raw.get(), i, PQfnumber(raw.get(), "total_time")));
    EXPECT_LE(t, prev);
    prev = t;
    const std::string text = PQgetvalue(raw.get(), i, PQfnumber(raw.get(), "query"));
    EXPECT_EQ(text.find("secret-literal"), std::string::npos) << text;
    EXPECT_EQ(text.find("id = 7"), std::string::npos) << text;
  }
  EXPECT_EQ(q.count("SHOW QUERIES"), 0u) << "the console's own commands are not captured";
}

// A client idle for a second is parked (its blank capture state dropped with its coroutines): what
// it runs before and after each parking is all counted, a named statement included.
TEST_F(CaptureTest, ParkedClientsAreCapturedAcrossParkings) {
  Pooler p(capture_options());
  Conn c = connect_ok(p.conninfo());
  const std::string parked = ":" + local_port(c.get()) + " parked";
  Result prep(PQprepare(c.get(), "by_id", ("SELECT v FROM " + kTable + " WHERE id = $1").c_str(), 1, nullptr));
  ASSERT_EQ(PQresultStatus(prep.get()), PGRES_COMMAND_OK) << PQerrorMessage(c.get());
  for (int round = 1; round <= 3; ++round) {
    ok(c.get(), "SELECT count(*) FROM " + kTable + " WHERE id < " + std::to_string(round));
    const std::string id = std::to_string(round);
    const char* param[1] = {id.c_str()};
    Result r(PQexecPrepared(c.get(), "by_id", 1, param, nullptr, nullptr, 0));
    ASSERT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQerrorMessage(c.get());
    EXPECT_EQ(std::string(PQgetvalue(r.get(), 0, 0)), "v" + id);
    EXPECT_TRUE(eventually([&] { return count_of(p.log(), parked) >= size_t(round); }, std::chrono::seconds(5)))
        << p.log();
  }
  Conn adm = admin(p);
  auto q = queries(adm.get());
  EXPECT_EQ(q["SELECT count(*) FROM " + kTable + " WHERE id < $1"]["calls"], "3");
  EXPECT_EQ(q["SELECT v FROM " + kTable + " WHERE id = $1"]["calls"], "3");
  EXPECT_EQ(q["SELECT v FROM " + kTable + " WHERE id = $1"]["rows"], "3");
}

std::string python(const std::string& code, const std::string& file) {
  int status = 0;
  std::string out = run("python3 -c '" + code + "' " + file, &status);
  EXPECT_EQ(status, 0) << out;
  return out;
}

// One line per entry: "query|calls|rows|errors|primary|replica|n_durations|samples as JSON".
const std::string kSummarize =
    "import json,sys\n"
    "lines=open(sys.argv[1],encoding=\"utf-8\").read().splitlines()\n"
    "h=json.loads(lines[0]); e=[json.loads(l) for l in lines[1:]]\n"
    "assert h[\"format\"]==\"pgopt-capture\" and h[\"version\"]==1, h\n"
    "assert h[\"fingerprints\"]==len(e) and h[\"dropped_calls\"]==0, h\n"
    "assert h[\"statements\"]==sum(x[\"calls\"] for x in e), h\n"
    "assert h[\"started_at\"]<=h[\"written_at\"], h\n"
    "for x in e:\n"
    "  assert x[\"database\"]==\"pgopt_test\" and x[\"dbname\"]==\"pgopt_test\" and len(x[\"fingerprint\"])==16\n"
    "  assert x[\"p95_ms\"]<=x[\"max_ms\"] and len(x[\"durations_ms\"])==min(x[\"calls\"],64)\n"
    "  print(\"%s|%d|%d|%d|%d|%d|%s\" % (x[\"query\"],x[\"calls\"],x[\"rows\"],x[\"errors\"],x[\"primary_calls\"],"
    "x[\"replica_calls\"],json.dumps(sorted(x[\"samples\"]))))\n";

TEST_F(CaptureTest, CaptureFileHasEntriesAndSamples) {
  const auto dir = std::filesystem::temp_directory_path() / ("pgopt-capture-it-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "capture.jsonl").string();
  std::filesystem::remove(file);  // a run with the same PID may have left one
  Pooler p(capture_options("capture_file = \"" + file + "\"\ncapture_interval = \"1s\"\n"));
  {
    Conn c = connect_ok(p.conninfo());
    run_traffic(c.get());
  }
  // Written within capture_interval of the traffic.
  std::string summary;
  ASSERT_TRUE(eventually(
      [&] {
        if (!std::filesystem::exists(file)) return false;
        int st = 0;
        summary = run("python3 -c '" + kSummarize + "' " + file, &st);
        return st == 0 && summary.find("INSERT INTO " + kTable + " VALUES ($1, $2)|4|4|0|4|0|[]") != std::string::npos;
      },
      std::chrono::seconds(6)))
      << summary;
  {
    // Five of the six statements, with their literals.
    const std::string head = "SELECT * FROM " + kTable + " WHERE id = $1|6|6|0|6|0|[";
    const size_t at = summary.find(head);
    ASSERT_NE(at, std::string::npos) << summary;
    const std::string line = summary.substr(at, summary.find('\n', at) - at);
    size_t n = 0;
    for (size_t i = line.find("\"SELECT * FROM " + kTable + " WHERE id = "); i != std::string::npos;
         i = line.find("\"SELECT * FROM " + kTable + " WHERE id = ", i + 1))
      ++n;
    EXPECT_EQ(n, 5u) << line;
  }
  EXPECT_NE(summary.find("SELECT v FROM " + kTable + " WHERE v = $1|1|0|0|1|0|[\"SELECT v FROM " + kTable +
                         " WHERE v = 'secret-literal-4711'\"]"),
            std::string::npos)
      << summary;
  // Extended protocol: $n parameters, no samples.
  EXPECT_NE(summary.find("SELECT v FROM " + kTable + " WHERE id > $1|3|9|0|3|0|[]"), std::string::npos) << summary;
  EXPECT_NE(summary.find("SELECT $1/$2 FROM " + kTable + " WHERE id = $3|2|0|2|2|0|"), std::string::npos) << summary;
  EXPECT_FALSE(std::filesystem::exists(file + ".tmp"));

  // Samples are for the file only.
  EXPECT_EQ(p.log().find("secret-literal"), std::string::npos);
  Conn adm = admin(p);
  for (auto& [text, row] : queries(adm.get())) EXPECT_EQ(text.find("secret-literal"), std::string::npos);

  // Shutdown writes the last state: more statements than before.
  {
    Conn c = connect_ok(p.conninfo());
    for (int i = 0; i < 3; ++i) ok(c.get(), "SELECT * FROM " + kTable + " WHERE id = 9");
  }
  EXPECT_EQ(p.stop(), 0) << p.log();
  summary = python(kSummarize, file);
  EXPECT_NE(summary.find("SELECT * FROM " + kTable + " WHERE id = $1|9|9|"), std::string::npos) << summary;
  std::filesystem::remove_all(dir);
}

TEST_F(CaptureTest, SamplesOffAndCaptureOff) {
  const auto dir = std::filesystem::temp_directory_path() / ("pgopt-capture-off-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "capture.jsonl").string();
  std::filesystem::remove(file);  // a run with the same PID may have left one
  {
    Pooler p(capture_options("capture_samples = false\ncapture_file = \"" + file + "\"\ncapture_interval = \"1s\"\n"));
    Conn c = connect_ok(p.conninfo());
    run_traffic(c.get());
    c.reset();
    EXPECT_EQ(p.stop(), 0) << p.log();
    const std::string summary = python(kSummarize, file);
    EXPECT_NE(summary.find("SELECT * FROM " + kTable + " WHERE id = $1|6|6|0|6|0|[]"), std::string::npos) << summary;
    EXPECT_NE(summary.find("SELECT v FROM " + kTable + " WHERE v = $1|1|0|0|1|0|[]"), std::string::npos) << summary;
    EXPECT_EQ(summary.find("secret-literal"), std::string::npos) << summary;
  }
  {
    Conn d = direct();
    ok(d.get(), "DELETE FROM " + kTable + " WHERE id >= 100");  // the same traffic again
    Pooler p(capture_options("capture = false\n"));
    Conn c = connect_ok(p.conninfo());
    run_traffic(c.get());
    Conn adm = admin(p);
    EXPECT_TRUE(show(adm.get(), "SHOW QUERIES").rows.empty());
  }
  std::filesystem::remove_all(dir);
}

TEST_F(CaptureTest, SlowQueriesAreLoggedNormalized) {
  Pooler p(capture_options("slow_query_threshold = \"100ms\"\n"));
  Conn c = connect_ok(p.conninfo());
  ok(c.get(), "SELECT pg_sleep(0.2)");
  ok(c.get(), "SELECT * FROM " + kTable + " WHERE id = 4");  // fast: not logged
  ASSERT_TRUE(p.wait_log("slow query:")) << p.log();
  const std::string log = p.log();
  const size_t at = log.find("slow query:");
  const std::string line = log.substr(at, log.find('\n', at) - at);
  EXPECT_NE(line.find("database pgopt_test, user postgres"), std::string::npos) << line;
  EXPECT_NE(line.find("SELECT pg_sleep($1)"), std::string::npos) << line;
  const double ms = std::stod(line.substr(std::string("slow query: ").size()));
  EXPECT_GE(ms, 200);
  EXPECT_EQ(log.find("pg_sleep(0.2)"), std::string::npos);
  EXPECT_EQ(log.find("slow query:", at + 1), std::string::npos) << log;
}

}  // namespace
}  // namespace pgopt::test
