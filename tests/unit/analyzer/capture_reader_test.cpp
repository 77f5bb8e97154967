// The capture file reader (docs/capture_format.md): exact groups from a valid file, refusal of
// anything else with FILE:LINE, --db filtering by dbname, and combination with logs and
// pg_stat_statements.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "analyzer/input.hpp"
#include "analyzer/input/capture_reader.hpp"
#include "analyzer/input/json_line.hpp"
#include "sql/parser.hpp"

using namespace pgopt::analyzer;

namespace {

const std::string kDir = std::string(PGOPT_FIXTURES) + "/capture/";

const char* kHeader =
    R"({"format":"pgopt-capture","version":1,"pgopt":"0.1.0","started_at":"2026-12-04T18:40:00.123Z",)"
    R"("written_at":"2026-12-04T18:41:00.456Z","statements":%S,"fingerprints":%F,"dropped_calls":0})";

std::string header(uint64_t statements, uint64_t fingerprints, const std::string& written_at = "2026-12-04T18:41:00.456Z",
                   const std::string& started_at = "2026-12-04T18:40:00.123Z") {
  std::string h = kHeader;
  h.replace(h.find("%S"), 2, std::to_string(statements));
  h.replace(h.find("%F"), 2, std::to_string(fingerprints));
  h.replace(h.find("2026-12-04T18:41:00.456Z"), 24, written_at);
  h.replace(h.find("2026-12-04T18:40:00.123Z"), 24, started_at);
  return h + "\n";
}

struct EntrySpec {
  std::string database = "app", dbname = "app", fingerprint = "a1b2c3d4e5f60718";
  std::string query = "SELECT abalance FROM pgbench_accounts WHERE aid = $1";
  std::string calls = "10", total_ms = "20", max_ms = "4", durations = "[2,2]", samples = "[]", rows = "10";
};

std::string entry(const EntrySpec& e) {
  return R"({"database":")" + e.database + R"(","dbname":")" + e.dbname + R"(","fingerprint":")" + e.fingerprint +
         R"(","query":")" + e.query + R"(","calls":)" + e.calls + R"(,"errors":0,"rows":)" + e.rows +
         R"(,"total_ms":)" + e.total_ms + R"(,"max_ms":)" + e.max_ms + R"(,"p95_ms":2,"durations_ms":)" +
         e.durations + R"(,"primary_calls":)" + e.calls + R"(,"replica_calls":0,"samples":)" + e.samples + "}\n";
}

bool contains(const std::vector<std::string>& v, const std::string& needle) {
  return std::any_of(v.begin(), v.end(), [&](const std::string& s) { return s.find(needle) != std::string::npos; });
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + "\n";
  return out;
}

std::string fingerprint_of(const std::string& sql) {
  auto fp = pgopt::sql::fingerprint(sql);
  EXPECT_TRUE(fp.value.has_value()) << sql;
  return pgopt::sql::fingerprint_hex(fp.value.value_or(0));
}

TEST(CaptureReader, ValidFileGivesOneGroupPerFingerprintWithExactNumbers) {
  CaptureRead r = read_capture(kDir + "valid.jsonl", std::nullopt, {});
  ASSERT_TRUE(r.result.errors.empty()) << joined(r.result.errors);
  const Workload& w = r.result.workload;
  EXPECT_EQ(r.entries, 3u);
  EXPECT_EQ(r.other_entries, 0u);
  EXPECT_EQ(r.header.pgopt, "0.1.0");
  EXPECT_EQ(r.header.dropped_calls, 7u);
  ASSERT_EQ(w.groups.size(), 3u);

  const QueryGroup& a = w.groups.at(0xa1b2c3d4e5f60718ull);
  EXPECT_EQ(a.fingerprint, 0xa1b2c3d4e5f60718ull);
  EXPECT_EQ(a.normalized, "SELECT abalance FROM pgbench_accounts WHERE aid = $1");
  EXPECT_EQ(a.calls, 1000u);
  EXPECT_EQ(a.timed_calls, 1000u);
  EXPECT_DOUBLE_EQ(a.total_ms, 123.456);
  EXPECT_DOUBLE_EQ(a.max_ms, 5.2);
  EXPECT_EQ(a.duration_reservoir, (std::vector<double>{0.12, 0.09, 0.31}));
  EXPECT_DOUBLE_EQ(a.p95_ms(), 0.31);
  EXPECT_EQ(a.samples, (std::vector<std::string>{"SELECT abalance FROM pgbench_accounts WHERE aid = 42",
                                                 "SELECT abalance FROM pgbench_accounts WHERE aid = 7"}));
  EXPECT_TRUE(a.has_literal_samples);
  EXPECT_FALSE(a.from_pg_stat_statements);
  EXPECT_EQ(a.rows, 998u);

  const QueryGroup& t = w.groups.at(0xffull);
  EXPECT_EQ(t.calls, 300u);
  EXPECT_DOUBLE_EQ(t.total_ms, 60.0);
  EXPECT_TRUE(t.samples.empty());
  EXPECT_FALSE(t.has_literal_samples);  // no literals: explained as a generic plan

  // Escapes decoded, exponents read, empty arrays accepted.
  const QueryGroup& b = w.groups.at(0x0123456789abcdefull);
  EXPECT_EQ(b.normalized, "SELECT note FROM invoices WHERE label = $1 -- \"caf\xC3\xA9\"");
  EXPECT_EQ(b.samples, (std::vector<std::string>{"SELECT note FROM invoices WHERE label = 'a\tb'"}));
  EXPECT_DOUBLE_EQ(b.total_ms, 10.0);
  EXPECT_TRUE(b.duration_reservoir.empty());

  EXPECT_EQ(w.statements, 1310u);
  EXPECT_EQ(w.entries, 3u);
  EXPECT_EQ(w.sources, (std::vector<std::string>{kDir + "valid.jsonl"}));
  EXPECT_EQ(w.first_timestamp, "2026-12-04 18:40:00.123 UTC");
  EXPECT_EQ(w.last_timestamp, "2026-12-04 18:41:00.456 UTC");
  EXPECT_TRUE(contains(w.notes, "capture " + kDir + "valid.jsonl: written by pgopt 0.1.0 at 2026-12-04T18:41:00.456Z "
                                "(capturing since 2026-12-04T18:40:00.123Z), 3 entries, 1317 statements"))
      << joined(w.notes);
  EXPECT_TRUE(contains(w.notes, "7 statements were counted but not kept")) << joined(w.notes);
}

TEST(CaptureReader, DbFilterKeepsOnlyEntriesOfThatServerDatabase) {
  CaptureRead app = read_capture(kDir + "valid.jsonl", std::string("app"), {});
  ASSERT_TRUE(app.result.errors.empty()) << joined(app.result.errors);
  // Two pooler databases ("app", "reports") on the server database "app": both kept.
  EXPECT_EQ(app.result.workload.groups.size(), 2u);
  EXPECT_EQ(app.result.workload.groups.count(0x0123456789abcdefull), 0u);
  EXPECT_EQ(app.other_entries, 1u);
  EXPECT_EQ(app.result.workload.statements, 1300u);
  EXPECT_TRUE(contains(app.result.workload.notes,
                       "kept the 2 entries of dbname \"app\", left out 1 of other databases (\"billing\")"))
      << joined(app.result.workload.notes);

  CaptureRead billing = read_capture(kDir + "valid.jsonl", std::string("billing"), {});
  ASSERT_EQ(billing.result.workload.groups.size(), 1u);
  EXPECT_EQ(billing.result.workload.groups.begin()->first, 0x0123456789abcdefull);
  EXPECT_EQ(billing.other_entries, 2u);

  // The pooler-side name ("reports") is not what --db names.
  CaptureRead reports = read_capture(kDir + "valid.jsonl", std::string("reports"), {});
  EXPECT_TRUE(reports.result.errors.empty());
  EXPECT_TRUE(reports.result.workload.groups.empty());
  EXPECT_EQ(reports.other_entries, 3u);
}

TEST(CaptureReader, RefusesAnotherVersion) {
  CaptureRead r = read_capture(kDir + "wrong_version.jsonl", std::nullopt, {});
  ASSERT_EQ(r.result.errors.size(), 1u);
  EXPECT_EQ(r.result.errors[0], kDir + "wrong_version.jsonl:1: capture format version 2 is not supported: this pgopt "
                                       "reads version 1 (docs/capture_format.md)");
  EXPECT_TRUE(r.result.workload.groups.empty());
}

TEST(CaptureReader, RefusesAFileWithoutHeader) {
  CaptureRead r = read_capture(kDir + "missing_header.jsonl", std::nullopt, {});
  ASSERT_EQ(r.result.errors.size(), 1u);
  EXPECT_EQ(r.result.errors[0], kDir + "missing_header.jsonl:1: not a pgopt capture file: the first line has no "
                                       "\"format\":\"pgopt-capture\"");
  EXPECT_TRUE(r.result.workload.groups.empty());

  // A server log given by mistake, an empty file, a header missing a field.
  CaptureRead log = read_capture_buffer("2024-05-01 10:00:00 UTC [1] LOG:  duration: 1 ms  statement: SELECT 1\n",
                                        "pg.log", std::nullopt, {});
  ASSERT_EQ(log.result.errors.size(), 1u);
  EXPECT_EQ(log.result.errors[0].rfind("pg.log:1: not a pgopt capture file: the first line is not JSON (column ", 0), 0u)
      << log.result.errors[0];
  CaptureRead empty = read_capture_buffer("", "empty.jsonl", std::nullopt, {});
  EXPECT_EQ(empty.result.errors, (std::vector<std::string>{"empty.jsonl:1: empty file: not a pgopt capture (no header line)"}));
  CaptureRead partial = read_capture_buffer(R"({"format":"pgopt-capture","version":1,"pgopt":"0.1.0"})"
                                            "\n",
                                            "p.jsonl", std::nullopt, {});
  EXPECT_EQ(partial.result.errors, (std::vector<std::string>{"p.jsonl:1: header: \"started_at\" is missing"}));
  CaptureRead missing = read_capture("/nonexistent/capture.jsonl", std::nullopt, {});
  ASSERT_EQ(missing.result.errors.size(), 1u);
  EXPECT_EQ(missing.result.errors[0].rfind("/nonexistent/capture.jsonl: cannot open: ", 0), 0u);
}

TEST(CaptureReader, TruncatedLineIsAnErrorWithItsLineNumber) {
  CaptureRead r = read_capture(kDir + "truncated.jsonl", std::nullopt, {});
  ASSERT_EQ(r.result.errors.size(), 1u) << joined(r.result.errors);
  EXPECT_EQ(r.result.errors[0], kDir + "truncated.jsonl:3: not valid JSON: line ends early (truncated?): a string is "
                                       "not closed");
  EXPECT_TRUE(r.result.workload.groups.empty());  // nothing half-read is used

  // Cut at a line boundary: the header's count gives it away.
  std::string cut = header(20, 2) + entry({});
  CaptureRead short_file = read_capture_buffer(cut, "cut.jsonl", std::nullopt, {});
  EXPECT_EQ(short_file.result.errors,
            (std::vector<std::string>{"cut.jsonl:3: the header announces 2 entries but 1 follow (file cut short or edited?)"}));
}

TEST(CaptureReader, EveryMalformedLineIsReportedWithItsLine) {
  EntrySpec negative, upper, bad_duration, no_query;
  negative.calls = "-1";
  upper.fingerprint = "A1B2C3D4E5F60718";
  bad_duration.durations = R"([1,"x"])";
  no_query.query = "";
  std::string data = header(0, 6) + entry(negative) + entry(upper) + entry(bad_duration) + "\n" + entry(no_query) +
                     R"({"database":"app",})" + "\n";
  CaptureRead r = read_capture_buffer(data, "bad.jsonl", std::nullopt, {});
  EXPECT_EQ(r.result.errors, (std::vector<std::string>{
                                 "bad.jsonl:2: \"calls\" must be a whole number >= 0, not -1",
                                 "bad.jsonl:3: \"fingerprint\" must be 16 lowercase hex digits, not \"A1B2C3D4E5F60718\"",
                                 "bad.jsonl:4: \"durations_ms\"[1] must be a number >= 0, not \"x\"",
                                 "bad.jsonl:5: not valid JSON: empty line where a JSON object was expected",
                                 "bad.jsonl:6: \"query\" is empty",
                                 "bad.jsonl:7: not valid JSON: column 19: a quoted member name expected",
                             }));
  EXPECT_TRUE(r.result.workload.groups.empty());
}

TEST(CaptureReader, EntriesOfOneFingerprintAddUp) {
  EntrySpec app, reports;
  reports.database = "reports";
  reports.calls = "5";
  reports.total_ms = "50";
  reports.max_ms = "30";
  reports.durations = "[10]";
  reports.samples = R"(["SELECT abalance FROM pgbench_accounts WHERE aid = 3"])";
  CaptureRead r = read_capture_buffer(header(15, 2) + entry(app) + entry(reports), "two.jsonl", std::string("app"), {});
  ASSERT_TRUE(r.result.errors.empty()) << joined(r.result.errors);
  ASSERT_EQ(r.result.workload.groups.size(), 1u);
  const QueryGroup& g = r.result.workload.groups.begin()->second;
  EXPECT_EQ(g.calls, 15u);
  EXPECT_DOUBLE_EQ(g.total_ms, 70.0);
  EXPECT_DOUBLE_EQ(g.max_ms, 30.0);
  EXPECT_EQ(g.duration_reservoir.size(), 3u);
  EXPECT_EQ(g.samples.size(), 1u);
  EXPECT_TRUE(g.has_literal_samples);
  EXPECT_EQ(g.rows, 20u);
}

// The pooler's result cache answered these: counted apart from calls, and an entry with hits only
// is no statement group at all (nothing ran for an index to help).
TEST(CaptureReader, CacheHitsAreKeptApartAndHitOnlyEntriesAreSkipped) {
  auto with_hits = [](EntrySpec e, const std::string& hits) {
    std::string line = entry(e);
    line.insert(line.rfind(",\"samples\""), ",\"cache_hits\":" + hits);
    return line;
  };
  EntrySpec ran, only_hits;
  only_hits.fingerprint = "00000000000000aa";
  only_hits.query = "SELECT v FROM flags WHERE id = $1";
  only_hits.calls = "0";
  only_hits.total_ms = "0";
  only_hits.max_ms = "0";
  only_hits.durations = "[]";
  CaptureRead r = read_capture_buffer(header(10, 2) + with_hits(ran, "990") + with_hits(only_hits, "500"), "hits.jsonl",
                                      std::nullopt, {});
  ASSERT_TRUE(r.result.errors.empty()) << joined(r.result.errors);
  ASSERT_EQ(r.result.workload.groups.size(), 1u);
  const QueryGroup& g = r.result.workload.groups.begin()->second;
  EXPECT_EQ(g.calls, 10u);
  EXPECT_EQ(g.cache_hits, 990u);
  EXPECT_DOUBLE_EQ(g.mean_ms(), 2.0);
  // A malformed count is an error like any other field's.
  CaptureRead bad = read_capture_buffer(header(10, 1) + with_hits(ran, "\"many\""), "bad.jsonl", std::nullopt, {});
  EXPECT_FALSE(bad.result.errors.empty());
}

TEST(CaptureReader, CombinedWithALogGroupOfTheSameFingerprint) {
  const std::string sql = "SELECT abalance FROM pgbench_accounts WHERE aid = 42";
  std::string log;
  for (int i = 1; i <= 3; ++i)
    log += "2026-12-04 18:40:0" + std::to_string(i) + ".000 UTC [7] LOG:  duration: " + std::to_string(i) +
           ".000 ms  statement: SELECT abalance FROM pgbench_accounts WHERE aid = " + std::to_string(i) + "\n";
  InputOptions o;
  InputResult logged = read_log_buffer(log, o, "pg.log");
  ASSERT_TRUE(logged.errors.empty());
  ASSERT_EQ(logged.workload.groups.size(), 1u);
  const uint64_t fp = logged.workload.groups.begin()->first;
  ASSERT_EQ(pgopt::sql::fingerprint_hex(fp), fingerprint_of(sql));  // the hex the pooler writes

  // The pooler saw more calls (the log may have been cut, or log_min_duration_statement > 0).
  EntrySpec e;
  e.fingerprint = fingerprint_of(sql);
  e.calls = "10";
  e.total_ms = "20";
  e.max_ms = "2.5";
  e.durations = "[2,2.5]";
  e.rows = "10";
  e.samples = R"(["SELECT abalance FROM pgbench_accounts WHERE aid = 99"])";
  CaptureRead cap = read_capture_buffer(header(10, 1) + entry(e), "cap.jsonl", std::string("app"), o);
  ASSERT_TRUE(cap.result.errors.empty()) << joined(cap.result.errors);

  Workload w = logged.workload;
  merge_capture(w, cap.result.workload, o);
  ASSERT_EQ(w.groups.size(), 1u);
  const QueryGroup& g = w.groups.at(fp);
  EXPECT_EQ(g.calls, 10u);  // not 13: the same executions seen twice
  EXPECT_EQ(g.timed_calls, 10u);
  EXPECT_DOUBLE_EQ(g.total_ms, 20.0);
  EXPECT_DOUBLE_EQ(g.max_ms, 3.0);                                   // the log's slowest
  EXPECT_EQ(g.duration_reservoir, (std::vector<double>{2.0, 2.5}));  // with the totals they belong to
  EXPECT_EQ(g.samples.size(), 4u);                                   // literals of both
  EXPECT_TRUE(std::find(g.samples.begin(), g.samples.end(), "SELECT abalance FROM pgbench_accounts WHERE aid = 99") !=
              g.samples.end());
  EXPECT_EQ(g.rows, 10u);  // logs have no row counts
  EXPECT_EQ(w.statements, 10u);
  EXPECT_EQ(w.sources, (std::vector<std::string>{"pg.log", "cap.jsonl"}));
  EXPECT_EQ(w.first_timestamp, "2026-12-04 18:40:00.123 UTC");
  EXPECT_TRUE(contains(w.notes, "capture: 1 fingerprints also read from the logs or pg_stat_statements were combined"))
      << joined(w.notes);

  // The log saw more: its counts and durations stay, the capture still adds its samples.
  e.calls = "2";
  e.total_ms = "100";
  e.max_ms = "99";
  CaptureRead few = read_capture_buffer(header(2, 1) + entry(e), "few.jsonl", std::nullopt, o);
  Workload w2 = logged.workload;
  merge_capture(w2, few.result.workload, o);
  const QueryGroup& g2 = w2.groups.at(fp);
  EXPECT_EQ(g2.calls, 3u);
  EXPECT_DOUBLE_EQ(g2.total_ms, 6.0);
  EXPECT_DOUBLE_EQ(g2.max_ms, 99.0);
  EXPECT_EQ(g2.duration_reservoir.size(), 3u);
  EXPECT_EQ(g2.samples.size(), 4u);
  EXPECT_EQ(w2.statements, 3u);
}

TEST(CaptureReader, CombinedWithPgStatStatements) {
  QueryGroup pss;
  pss.fingerprint = 0xa1b2c3d4e5f60718ull;
  pss.normalized = "SELECT abalance FROM pgbench_accounts WHERE aid = $1";
  pss.calls = pss.timed_calls = 100;
  pss.total_ms = 50;
  pss.max_ms = 9;
  pss.rows = 100;
  pss.has_literal_samples = false;
  pss.from_pg_stat_statements = true;
  pss.queryids = {7};
  Workload w;
  w.groups[pss.fingerprint] = pss;
  w.statements = 100;
  EntrySpec e;
  e.samples = R"(["SELECT abalance FROM pgbench_accounts WHERE aid = 5"])";
  CaptureRead cap = read_capture_buffer(header(10, 1) + entry(e), "cap.jsonl", std::nullopt, {});
  ASSERT_TRUE(cap.result.errors.empty()) << joined(cap.result.errors);
  merge_capture(w, cap.result.workload, {});
  const QueryGroup& g = w.groups.at(pss.fingerprint);
  EXPECT_EQ(g.calls, 100u);
  EXPECT_DOUBLE_EQ(g.total_ms, 50.0);
  EXPECT_DOUBLE_EQ(g.max_ms, 9.0);
  EXPECT_EQ(g.duration_reservoir, (std::vector<double>{2.0, 2.0}));  // pg_stat_statements has none
  EXPECT_EQ(g.samples, (std::vector<std::string>{"SELECT abalance FROM pgbench_accounts WHERE aid = 5"}));
  EXPECT_TRUE(g.has_literal_samples);  // now EXPLAINed with real literals
  EXPECT_TRUE(g.from_pg_stat_statements);
  EXPECT_EQ(g.rows, 100u);
  EXPECT_EQ(g.queryids, (std::vector<int64_t>{7}));
  EXPECT_EQ(w.statements, 100u);
}

TEST(CaptureReader, SeveralFilesOfOneRunKeepTheLatestOfDifferentPoolersAddUp) {
  const std::string dir = ::testing::TempDir();
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir + name, std::ios::binary) << text;
    return dir + name;
  };
  EntrySpec early, late, other;
  early.calls = "10";
  late.calls = "25";
  other.calls = "4";
  std::string a = write("cap_a.jsonl", header(10, 1, "2026-12-04T18:41:00.000Z") + entry(early));
  std::string b = write("cap_b.jsonl", header(25, 1, "2026-12-04T18:42:00.000Z") + entry(late));
  std::string c = write("cap_c.jsonl", header(4, 1, "2026-12-04T18:42:00.000Z", "2026-12-04T17:00:00.000Z") + entry(other));
  InputResult r = read_captures({b, a, c}, std::nullopt, {});
  ASSERT_TRUE(r.errors.empty()) << joined(r.errors);
  ASSERT_EQ(r.workload.groups.size(), 1u);
  EXPECT_EQ(r.workload.groups.begin()->second.calls, 29u);  // b (a superseded) + c (another pooler)
  EXPECT_EQ(r.workload.statements, 29u);
  EXPECT_TRUE(contains(r.workload.notes, "capture " + a + ": left out, superseded by " + b)) << joined(r.workload.notes);
  EXPECT_EQ(r.workload.sources, (std::vector<std::string>{b, c}));

  // One bad file fails the whole read, naming it.
  std::string bad = write("cap_bad.jsonl", header(1, 1) + "{\n");
  InputResult failed = read_captures({a, bad}, std::nullopt, {});
  EXPECT_EQ(failed.errors, (std::vector<std::string>{bad + ":2: not valid JSON: line ends early (truncated?): an object "
                                                           "is not closed"}));
  EXPECT_TRUE(failed.workload.groups.empty());
}

// The end-to-end fixture is only meaningful if its fingerprints are the ones libpg_query gives both
// the normalized text and each literal sample (what the pooler fingerprints).
TEST(CaptureReader, PgbenchFixtureFingerprintsAreLibpgQuerys) {
  std::ifstream in(kDir + "pgbench.jsonl");
  std::string line;
  std::getline(in, line);
  int entries = 0;
  while (std::getline(in, line)) {
    auto parsed = pgopt::analyzer::input::json::parse_line(line);
    ASSERT_TRUE(parsed.value) << parsed.error;
    const std::string hex = parsed.value->find("fingerprint")->text;
    const std::string query = parsed.value->find("query")->text;
    EXPECT_EQ(fingerprint_of(query), hex) << query;
    for (const auto& s : parsed.value->find("samples")->items) EXPECT_EQ(fingerprint_of(s.text), hex) << s.text;
    ++entries;
  }
  EXPECT_EQ(entries, 7);
  CaptureRead r = read_capture(kDir + "pgbench.jsonl", std::string("pgopt_capture"), {});
  EXPECT_TRUE(r.result.errors.empty()) << joined(r.result.errors);
  EXPECT_EQ(r.result.workload.groups.size(), 6u);
}

TEST(CaptureJsonLine, StrictAboutSyntaxLenientAboutUnknownMembers) {
  using pgopt::analyzer::input::json::parse_line;
  auto ok = parse_line(R"( {"a":[1,-2.5e3,true,false,null,{"b":"\u00e9\n"}],"c":{}} )");
  ASSERT_TRUE(ok.value) << ok.error;
  const auto* a = ok.value->find("a");
  ASSERT_TRUE(a);
  ASSERT_EQ(a->items.size(), 6u);
  EXPECT_EQ(a->items[1].as_number(), -2500.0);
  EXPECT_FALSE(a->items[1].as_count());
  EXPECT_EQ(a->items[0].as_count(), 1u);
  EXPECT_EQ(a->items[5].find("b")->text, "\xC3\xA9\n");
  for (const char* bad : {R"({"a":01})", R"({"a":1.})", R"({"a":"x\q"})", R"({"a":1,})", R"({"a":1} x)", R"({'a':1})",
                          R"({"a":NaN})", R"({"a":[1 2]})", "{\"a\":\"tab\there\"}", R"({"a":tru})", R"([)"})
    EXPECT_FALSE(parse_line(bad).value) << bad;
  std::string deep(200, '[');
  EXPECT_EQ(parse_line(deep).error, "column 65: nested too deeply");
  EXPECT_FALSE(parse_line(R"({"n":18446744073709551616})").value->find("n")->as_count());  // 2^64
}

}  // namespace
