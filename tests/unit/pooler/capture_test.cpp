// Workload capture without sockets: statement splitting, the shape cache, the bounded store and its
// reservoirs, merging worker stores, the capture file's JSON lines and its atomic replacement, and
// matching relayed messages to the replies that end them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "pooler/capture/capture_file.hpp"
#include "pooler/capture/session_capture.hpp"
#include "pooler/capture/shape.hpp"
#include "pooler/capture/store.hpp"
#include "pooler/protocol/codec.hpp"
#include "sql/parser.hpp"

namespace pgopt::pooler::capture {
namespace {

namespace proto = pgopt::protocol;

std::vector<std::string> pieces(std::string_view sql) {
  std::vector<std::string> out;
  for (const auto& p : split_statements(sql)) out.emplace_back(sql.substr(p.offset, p.size));
  return out;
}

TEST(CaptureSplit, TopLevelSemicolonsOnly) {
  EXPECT_EQ(pieces("SELECT 1"), (std::vector<std::string>{"SELECT 1"}));
  EXPECT_EQ(pieces("  SELECT 1 ;  SELECT 2;"), (std::vector<std::string>{"SELECT 1", "SELECT 2"}));
  EXPECT_EQ(pieces("SELECT ';' ; SELECT \"a;b\" FROM t"), (std::vector<std::string>{"SELECT ';'", "SELECT \"a;b\" FROM t"}));
  EXPECT_EQ(pieces("SELECT 'it''s;'; SELECT E'\\';'"), (std::vector<std::string>{"SELECT 'it''s;'", "SELECT E'\\';'"}));
  EXPECT_EQ(pieces("SELECT $$a;b$$; SELECT $x$;$x$"), (std::vector<std::string>{"SELECT $$a;b$$", "SELECT $x$;$x$"}));
  EXPECT_EQ(pieces("SELECT 1 -- c;\n; /* a; /* b; */ c; */ SELECT 2"),
            (std::vector<std::string>{"SELECT 1", "SELECT 2"}));
  // Blanks and comments alone run nothing.
  EXPECT_TRUE(pieces(" ; -- x\n ;/* y */").empty());
  EXPECT_TRUE(pieces("").empty());
}

TEST(CaptureShapes, LiteralsShareOneShapeAndOneParse) {
  ShapeCache cache;
  auto a = cache.statement("SELECT * FROM t WHERE id = 42");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->normalized, "SELECT * FROM t WHERE id = $1");
  EXPECT_TRUE(a->has_literals);
  EXPECT_EQ(a->fingerprint, *sql::fingerprint("SELECT * FROM t WHERE id = 7").value);
  const size_t misses = cache.misses();
  auto b = cache.statement("SELECT * FROM t WHERE id = 4711");
  EXPECT_EQ(cache.misses(), misses) << "a text differing only in literals must not be parsed again";
  EXPECT_EQ(b->fingerprint, a->fingerprint);

  auto c = cache.statement("SELECT * FROM t WHERE id = $1");
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->has_literals);
  EXPECT_FALSE(cache.statement("SELEC oops"));

  const auto& q = cache.query("SELECT 1; UPDATE t SET x = 'a' WHERE id = 2;");
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q[1]->normalized, "UPDATE t SET x = $1 WHERE id = $2");
  EXPECT_TRUE(cache.query(" ; ").empty());
  EXPECT_TRUE(cache.query("SELEC 1").empty());
}

TEST(CaptureShapes, CacheIsBounded) {
  ShapeCache cache(4);
  for (int i = 0; i < 20; ++i) cache.statement("SELECT c" + std::to_string(i) + " FROM t");
  EXPECT_LE(cache.size(), 4u);
}

Shape shape_of(const std::string& sql) {
  Shape s;
  s.fingerprint = *sql::fingerprint(sql).value;
  s.normalized = *sql::normalize(sql).text;
  s.has_literals = s.normalized != sql;
  return s;
}

TEST(CaptureStore, BoundedByMaxQueriesWithDroppedCalls) {
  WorkerStore store;
  PoolerSettings p;
  p.capture_max_queries = 2;
  store.settings.set(p);
  Stats* a = store.entry("app", shape_of("SELECT 1 FROM a"));
  Stats* b = store.entry("app", shape_of("SELECT 1 FROM b"));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(store.entry("app", shape_of("SELECT 2 FROM a")), a);  // same fingerprint
  EXPECT_EQ(store.entry("app", shape_of("SELECT 1 FROM c")), nullptr);
  EXPECT_EQ(store.entry("other", shape_of("SELECT 1 FROM a")), nullptr);  // per database, same bound
  store.record(a, 1.5, false, 3, false);
  store.record(b, 2.5, true, 0, true);
  store.record(nullptr, 9, false, 0, false);
  auto snap = store.snapshot();
  EXPECT_EQ(snap.statements, 3u);
  EXPECT_EQ(snap.dropped_calls, 1u);
  ASSERT_EQ(snap.queries.size(), 2u);
  EXPECT_EQ(store.size(), 2u);
}

TEST(CaptureStore, ReservoirsStayBoundedAndUniform) {
  WorkerStore store(7);
  Stats* e = store.entry("app", shape_of("SELECT * FROM t WHERE id = 1"));
  ASSERT_TRUE(e);
  for (int i = 1; i <= 10000; ++i) {
    store.record(e, double(i), i % 10 == 0, 1, i % 2 == 0);
    if (std::string* slot = store.sample_slot(e)) *slot = "SELECT * FROM t WHERE id = " + std::to_string(i);
  }
  EXPECT_EQ(e->calls, 10000u);
  EXPECT_EQ(e->errors, 1000u);
  EXPECT_EQ(e->rows, 10000u);
  EXPECT_EQ(e->primary_calls, 5000u);
  EXPECT_EQ(e->replica_calls, 5000u);
  EXPECT_DOUBLE_EQ(e->max_ms, 10000);
  EXPECT_DOUBLE_EQ(e->total_ms, 10000.0 * 10001 / 2);
  EXPECT_EQ(e->durations_ms.size(), kMaxDurations);
  EXPECT_EQ(e->samples.size(), kMaxSamples);
  // A uniform sample of 1..10000: not just the first 64 values.
  int late = 0;
  for (double d : e->durations_ms) late += d > 5000;
  EXPECT_GT(late, 10);
  EXPECT_LT(late, 54);

  PoolerSettings off;
  off.capture_samples = false;
  store.settings.set(off);
  EXPECT_EQ(store.sample_slot(e), nullptr);
}

TEST(CaptureStore, NearestRankPercentile) {
  std::vector<double> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);
  EXPECT_DOUBLE_EQ(nearest_rank(v, 95), 95);
  EXPECT_DOUBLE_EQ(nearest_rank({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, 95), 19);
  EXPECT_DOUBLE_EQ(nearest_rank({3, 1, 2}, 95), 3);
  EXPECT_DOUBLE_EQ(nearest_rank({7}, 95), 7);
  EXPECT_DOUBLE_EQ(nearest_rank({}, 95), 0);
}

TEST(CaptureStore, MergeAddsCountersAndBoundsReservoirs) {
  WorkerStore w1(1), w2(2);
  const Shape s = shape_of("SELECT * FROM t WHERE id = 1");
  const Shape only2 = shape_of("SELECT 2 FROM u");
  for (int i = 0; i < 100; ++i) {
    w1.record(w1.entry("app", s), 1.0, false, 1, false);
    if (auto* slot = w1.sample_slot(w1.entry("app", s))) *slot = "w1";
  }
  for (int i = 0; i < 300; ++i) {
    w2.record(w2.entry("app", s), 3.0, i == 0, 2, true);
    if (auto* slot = w2.sample_slot(w2.entry("app", s))) *slot = "w2";
  }
  w2.record(w2.entry("app", only2), 50.0, false, 0, false);
  w2.record(w2.entry("db2", s), 0.5, false, 0, false);

  Snapshot m = merge({w1.snapshot(), w2.snapshot()}, 100);
  EXPECT_EQ(m.statements, 402u);
  ASSERT_EQ(m.queries.size(), 3u);
  const Stats& top = m.queries[0];  // by total_ms: 100*1 + 300*3 = 1000
  EXPECT_EQ(top.database, "app");
  EXPECT_EQ(top.fingerprint, s.fingerprint);
  EXPECT_EQ(top.calls, 400u);
  EXPECT_EQ(top.errors, 1u);
  EXPECT_EQ(top.rows, 700u);
  EXPECT_EQ(top.primary_calls, 100u);
  EXPECT_EQ(top.replica_calls, 300u);
  EXPECT_DOUBLE_EQ(top.total_ms, 1000);
  EXPECT_DOUBLE_EQ(top.max_ms, 3);
  EXPECT_EQ(top.durations_ms.size(), kMaxDurations);
  EXPECT_EQ(top.samples.size(), kMaxSamples);
  // Proportional: worker 2 ran three quarters of the calls.
  const auto w2_durations = std::count(top.durations_ms.begin(), top.durations_ms.end(), 3.0);
  EXPECT_EQ(w2_durations, 48);
  EXPECT_GT(std::count(top.samples.begin(), top.samples.end(), "w2"), 2);
  EXPECT_EQ(m.queries[1].query, "SELECT $1 FROM u");
  EXPECT_EQ(m.queries[2].database, "db2");

  // Cut to the busiest fingerprints; the rest count as dropped.
  Snapshot cut = merge({w1.snapshot(), w2.snapshot()}, 1);
  ASSERT_EQ(cut.queries.size(), 1u);
  EXPECT_EQ(cut.queries[0].calls, 400u);
  EXPECT_EQ(cut.dropped_calls, 2u);
  EXPECT_EQ(cut.statements, 402u);
}

// Cache hits add up across workers apart from calls; a fingerprint only ever answered by the cache
// is still listed (calls 0), and with capture off nothing is recorded.
TEST(CaptureStore, CacheHitsAreCountedApartFromCalls) {
  WorkerStore w1(1), w2(2);
  const std::string text = "SELECT v FROM flags WHERE id = 7";
  w1.record(w1.entry("app", shape_of(text)), 2.0, false, 1, false);
  w1.record_cache_hit("app", text);
  w2.record_cache_hit("app", "SELECT v FROM flags WHERE id = 8");  // same fingerprint
  w2.record_cache_hit("app", "SELECT 1 FROM only_cached");
  w2.settings.enabled = false;
  w2.record_cache_hit("app", text);
  Snapshot m = merge({w1.snapshot(), w2.snapshot()}, 100);
  ASSERT_EQ(m.queries.size(), 2u);
  EXPECT_EQ(m.queries[0].calls, 1u);
  EXPECT_EQ(m.queries[0].cache_hits, 2u);
  EXPECT_DOUBLE_EQ(m.queries[0].total_ms, 2.0);
  EXPECT_EQ(m.queries[1].calls, 0u);
  EXPECT_EQ(m.queries[1].cache_hits, 1u);
  EXPECT_EQ(m.statements, 1u);
}

TEST(CaptureFile, JsonStringsAreEscaped) {
  std::string out;
  append_json_string(out, "a\"b\\c\nd\te\x01\x7f");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\nd\\te\\u0001\\u007f\"");
  out.clear();
  append_json_string(out, "caf\xc3\xa9 \xff\xc3");  // valid UTF-8 kept, invalid bytes replaced
  EXPECT_EQ(out, "\"caf\xc3\xa9 \\ufffd\\ufffd\"");
  EXPECT_EQ(rfc3339_ms(std::chrono::system_clock::time_point(std::chrono::milliseconds(1796400000123LL))),
            "2026-12-04T16:00:00.123Z");
}

std::string python_check(const std::filesystem::path& file, const std::string& code) {
  std::string cmd = "python3 -c '" + code + "' " + file.string() + " 2>&1";
  std::string out;
  FILE* f = ::popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  ::pclose(f);
  return out;
}

Snapshot sample_snapshot() {
  WorkerStore w;
  const Shape s = shape_of("SELECT * FROM \"odd\"\"name\" WHERE note = 'x\ny'");
  Stats* e = w.entry("app", s);
  for (int i = 0; i < 3; ++i) w.record(e, 0.1234 * (i + 1), i == 2, 1, i == 1);
  *w.sample_slot(e) = "SELECT * FROM \"odd\"\"name\" WHERE note = 'tab\there \"q\" \\ caf\xc3\xa9'";
  Snapshot snap = merge({w.snapshot()}, 10);
  snap.queries[0].dbname = "app_db";
  return snap;
}

TEST(CaptureFile, LinesFollowTheFormatAndParse) {
  const Snapshot snap = sample_snapshot();
  const auto dir = std::filesystem::temp_directory_path() / ("pgopt-capture-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "capture.jsonl";
  ASSERT_EQ(write_atomically(file.string(), to_jsonl(snap, true, std::chrono::system_clock::now())), "");
  const std::string check =
      "import json,sys\n"
      "lines=open(sys.argv[1],encoding=\"utf-8\").read().split(\"\\n\")\n"
      "assert lines[-1]==\"\"\n"
      "h=json.loads(lines[0]); e=[json.loads(l) for l in lines[1:-1]]\n"
      "assert h[\"format\"]==\"pgopt-capture\" and h[\"version\"]==1 and h[\"fingerprints\"]==len(e)==1\n"
      "assert h[\"statements\"]==3 and h[\"dropped_calls\"]==0 and h[\"started_at\"].endswith(\"Z\")\n"
      "q=e[0]\n"
      "assert q[\"database\"]==\"app\" and q[\"dbname\"]==\"app_db\" and len(q[\"fingerprint\"])==16\n"
      "assert q[\"calls\"]==3 and q[\"errors\"]==1 and q[\"rows\"]==3\n"
      "assert q[\"primary_calls\"]==2 and q[\"replica_calls\"]==1\n"
      "assert q[\"durations_ms\"]==[0.123,0.247,0.37] and q[\"p95_ms\"]==0.37 and q[\"max_ms\"]==0.37\n"
      "assert q[\"query\"]==\"SELECT * FROM \\\"odd\\\"\\\"name\\\" WHERE note = $1\", q[\"query\"]\n"
      "assert q[\"samples\"]==[\"SELECT * FROM \\\"odd\\\"\\\"name\\\" WHERE note = \\u0027tab\\there \\\"q\\\" \\\\ caf\\u00e9\\u0027\"], q[\"samples\"]\n"
      "print(\"ok\")\n";
  EXPECT_EQ(python_check(file, check), "ok\n");

  // capture_samples = false: the field stays, empty.
  ASSERT_EQ(write_atomically(file.string(), to_jsonl(snap, false, std::chrono::system_clock::now())), "");
  EXPECT_EQ(python_check(file, "import json,sys\nl=open(sys.argv[1]).read().splitlines()\n"
                               "print(json.loads(l[1])[\"samples\"])\n"),
            "[]\n");
  std::filesystem::remove_all(dir);
}

TEST(CaptureFile, ReplacedAtomically) {
  const auto dir = std::filesystem::temp_directory_path() / ("pgopt-capture-atomic-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "c.jsonl";
  std::ofstream(file) << "old contents that are longer than the new ones\n";
  // A reader holding the old file keeps reading the old inode: the new file is a rename, not a rewrite.
  std::ifstream held(file);
  ASSERT_EQ(write_atomically(file.string(), "new\n"), "");
  std::stringstream now, before;
  now << std::ifstream(file).rdbuf();
  before << held.rdbuf();
  EXPECT_EQ(now.str(), "new\n");
  EXPECT_EQ(before.str(), "old contents that are longer than the new ones\n");
  EXPECT_FALSE(std::filesystem::exists(dir / "c.jsonl.tmp"));

  const std::string bad = (dir / "missing" / "c.jsonl").string();
  std::string err = write_atomically(bad, "x");
  EXPECT_NE(err.find(bad + ".tmp: No such file or directory"), std::string::npos) << err;
  std::filesystem::remove_all(dir);
}

// ---- SessionCapture on message sequences ----

std::string msg(char type, const std::string& body) {
  std::string out;
  proto::Writer(out).begin(type).raw(body).end();
  return out;
}
std::string z(const std::string& s) { return s + '\0'; }

struct Feed {
  WorkerStore store;
  SessionCapture cap;
  std::vector<std::string> keep;  // frames point into these
  void client(char type, const std::string& body, bool replica = false) {
    keep.push_back(msg(type, body));
    const std::string& bytes = keep.back();
    auto r = proto::decode_frame({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, 1 << 20);
    ASSERT_EQ(r.status, proto::DecodeStatus::Frame);
    cap.on_client(store, r.frame, false, replica, nullptr, "app", "alice");
  }
  void query(const std::string& q) { client('Q', z(q)); }
  void server(char type, const std::string& body = "") {
    cap.on_server(type, {reinterpret_cast<const uint8_t*>(body.data()), body.size()});
  }
  const Stats* find(const std::string& sql) {
    const uint64_t fp = *sql::fingerprint(sql).value;
    snap = store.snapshot();
    for (const auto& q : snap.queries)
      if (q.fingerprint == fp) return &q;
    return nullptr;
  }
  Snapshot snap;
};

TEST(CaptureSession, SimpleQueryStatementsAndErrors) {
  Feed f;
  f.query("SELECT * FROM t WHERE id = 5; UPDATE t SET v = 1 WHERE id = 5");
  f.server('T');
  f.server('D');
  f.server('C', z("SELECT 1"));
  f.server('C', z("UPDATE 4"));
  f.server('Z', "I");
  EXPECT_FALSE(f.cap.following());
  f.query("SELECT * FROM t WHERE id = 6; SELECT nope FROM t; DELETE FROM t");
  f.server('C', z("SELECT 0"));
  f.server('E', "SERROR\0");
  f.server('Z', "I");
  f.query("");  // nothing runs
  f.server('I');
  f.server('Z', "I");

  const Stats* sel = f.find("SELECT * FROM t WHERE id = 1");
  ASSERT_TRUE(sel);
  EXPECT_EQ(sel->calls, 2u);
  EXPECT_EQ(sel->rows, 1u);
  EXPECT_EQ(sel->errors, 0u);
  ASSERT_EQ(sel->samples.size(), 2u);
  EXPECT_EQ(sel->samples[0], "SELECT * FROM t WHERE id = 5");
  EXPECT_EQ(sel->samples[1], "SELECT * FROM t WHERE id = 6");
  const Stats* upd = f.find("UPDATE t SET v = 2 WHERE id = 9");
  ASSERT_TRUE(upd);
  EXPECT_EQ(upd->calls, 1u);
  EXPECT_EQ(upd->rows, 4u);
  const Stats* bad = f.find("SELECT nope FROM t");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->calls, 1u);
  EXPECT_EQ(bad->errors, 1u);
  EXPECT_TRUE(bad->samples.empty()) << "no literals, nothing to sample";
  EXPECT_EQ(f.find("DELETE FROM t"), nullptr) << "skipped after the error: never ran";
  EXPECT_EQ(f.snap.statements, 4u);
}

TEST(CaptureSession, ExtendedProtocolNamedAndUnnamed) {
  Feed f;
  const std::string params = std::string(2, '\0');
  // Pipelined: unnamed Parse/Bind/Execute, a named statement executed twice, one Sync.
  f.client('P', z("") + z("SELECT * FROM t WHERE id = $1") + params, true);
  f.client('B', z("") + z("") + std::string(6, '\0'), true);
  f.client('E', z("") + std::string(4, '\0'), true);
  f.client('P', z("s1") + z("INSERT INTO t VALUES ($1)") + params);
  f.client('B', z("") + z("s1") + std::string(6, '\0'));
  f.client('E', z("") + std::string(4, '\0'));
  f.client('B', z("") + z("s1") + std::string(6, '\0'));
  f.client('E', z("") + std::string(4, '\0'));
  f.client('S', "");
  // A second group whose Bind fails: its Execute counts as an error, then its Sync.
  f.client('B', z("") + z("s1") + std::string(6, '\0'));
  f.client('E', z("") + std::string(4, '\0'));
  f.client('S', "");
  EXPECT_TRUE(f.cap.following());
  f.server('1');
  f.server('2');
  f.server('C', z("SELECT 2"));
  f.server('1');
  f.server('2');
  f.server('C', z("INSERT 0 1"));
  f.server('2');
  f.server('E', "SERROR\0");
  f.server('Z', "I");  // the second Execute of s1 failed
  f.server('E', "SERROR\0");
  f.server('Z', "I");
  EXPECT_FALSE(f.cap.following());

  const Stats* sel = f.find("SELECT * FROM t WHERE id = $1");
  ASSERT_TRUE(sel);
  EXPECT_EQ(sel->calls, 1u);
  EXPECT_EQ(sel->rows, 2u);
  EXPECT_EQ(sel->replica_calls, 1u);
  EXPECT_TRUE(sel->samples.empty()) << "extended-protocol text has no literals to sample";
  const Stats* ins = f.find("INSERT INTO t VALUES ($1)");
  ASSERT_TRUE(ins);
  EXPECT_EQ(ins->calls, 3u);
  EXPECT_EQ(ins->errors, 2u);
  EXPECT_EQ(ins->rows, 1u);
  EXPECT_EQ(ins->primary_calls, 3u);
}

TEST(CaptureSession, OffCostsNothingAndAbandonForgets) {
  Feed f;
  PoolerSettings off;
  off.capture = false;
  f.store.settings.set(off);
  f.query("SELECT 1");
  EXPECT_FALSE(f.cap.following());
  f.server('C', z("SELECT 1"));
  f.server('Z', "I");
  EXPECT_EQ(f.store.snapshot().statements, 0u);
  EXPECT_EQ(f.store.shapes.size(), 0u) << "nothing parsed when capture is off";

  f.store.settings.set(PoolerSettings{});
  f.query("SELECT 1");
  EXPECT_TRUE(f.cap.following());
  f.cap.abandon();  // the batch goes to another server and is fed again
  f.query("SELECT 1");
  f.server('C', z("SELECT 1"));
  f.server('Z', "I");
  EXPECT_EQ(f.store.snapshot().statements, 1u);
}

TEST(CaptureSession, RowsFromTags) {
  auto rows = [](const std::string& tag) {
    std::string b = z(tag);
    return tag_rows({reinterpret_cast<const uint8_t*>(b.data()), b.size()});
  };
  EXPECT_EQ(rows("SELECT 42"), 42u);
  EXPECT_EQ(rows("INSERT 0 7"), 7u);
  EXPECT_EQ(rows("UPDATE 0"), 0u);
  EXPECT_EQ(rows("COPY 12"), 12u);
  EXPECT_EQ(rows("BEGIN"), 0u);
  EXPECT_EQ(rows("CREATE TABLE"), 0u);
}

}  // namespace
}  // namespace pgopt::pooler::capture
