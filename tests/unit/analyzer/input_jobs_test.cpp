// --jobs: a log split into byte ranges at ANY offset must give exactly the workload of one
// sequential read (no statement lost or doubled at a border, even inside multi-line entries).
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "analyzer/input.hpp"
#include "analyzer/input/log_input.hpp"
#include "tests/unit/analyzer/input_test_util.hpp"

using namespace pgopt::analyzer;
namespace t = pgopt::analyzer::input_testing;

namespace {

// A stderr log with a multi-line statement or DETAIL around every few dozen bytes, several sessions
// interleaved, log_statement + log_duration pairs, a bit of garbage.
std::string stderr_log(int rounds) {
  std::string s;
  for (int i = 0; i < rounds; ++i) {
    int pid = 100 + i % 3;
    std::string ts = fmt::format("2024-05-01 10:00:{:02}.{:03} UTC", i / 10 % 60, i % 1000);
    s += fmt::format("{} [{}] app@shop LOG:  duration: {}.25 ms  statement: SELECT a,\n\t       b\n\tFROM t{}\n\tWHERE x = '{}\n\tline'\n",
                     ts, pid, i, i % 2, i);
    s += fmt::format("{} [{}] app@shop LOG:  statement: UPDATE u SET v = {} WHERE k = {}\n", ts, pid + 10, i, i);
    s += fmt::format("{} [{}] app@shop LOG:  duration: 0.{}00 ms  execute S_1: SELECT *\n\tFROM users WHERE id = $1 AND n = $2\n",
                     ts, pid, i % 10);
    s += fmt::format("{} [{}] app@shop DETAIL:  parameters: $1 = '{}', $2 = 'multi\n\tline value'\n", ts, pid, i);
    if (i % 4 == 0) s += "garbage that is not a log line\n";
    s += fmt::format("{} [{}] app@shop LOG:  duration: {}.5 ms\n", ts, pid + 10, i % 7);
    if (i % 5 == 0)
      s += fmt::format("{} [{}] app@shop ERROR:  boom\n{} [{}] app@shop STATEMENT:  SELECT broken\n\tFROM x\n", ts, pid,
                       ts, pid);
  }
  return s;
}

std::string csv_log(int rounds) {
  std::string s;
  for (int i = 0; i < rounds; ++i) {
    s += fmt::format(
        "2024-05-01 10:00:00.{:03} UTC,\"app\",\"shop\",{},\"[local]\",6632a0e0.{},1,\"SELECT\",2024-05-01 10:00:00 UTC,"
        "3/1,0,LOG,00000,\"duration: {}.5 ms  statement: SELECT \"\"Col\"\"\n  FROM t\n2024-05-01 in a literal is ok"
        " WHERE x = '{}'\",,,,,,,,,\"psql\",\"client backend\",,0\n",
        i % 1000, 40 + i % 2, 40 + i % 2, i, i);
    s += fmt::format(
        "2024-05-01 10:00:00.{:03} UTC,\"app\",\"shop\",{},\"[local]\",6632a0e0.{},2,\"SELECT\",2024-05-01 10:00:00 UTC,"
        "3/2,0,LOG,00000,\"duration: 1.0 ms  execute S_1: SELECT $1\",\"parameters: $1 = '{}'\",,,,,,,,\"psql\","
        "\"client backend\",,0\n",
        i % 1000, 40 + i % 2, 40 + i % 2, i);
    if (i % 3 == 0) s += "stray line\n";
  }
  return s;
}

std::string json_log(int rounds) {
  std::string s;
  for (int i = 0; i < rounds; ++i) {
    s += fmt::format(
        "{{\"timestamp\":\"2024-05-01 10:00:00.{:03} UTC\",\"pid\":{},\"session_id\":\"6632a0e0.{}\","
        "\"error_severity\":\"LOG\",\"message\":\"statement: SELECT \\\"c\\\"\\nFROM t WHERE x = {}\"}}\n",
        i % 1000, 60 + i % 2, 60 + i % 2, i);
    s += fmt::format(
        "{{\"timestamp\":\"2024-05-01 10:00:00.{:03} UTC\",\"pid\":{},\"session_id\":\"6632a0e0.{}\","
        "\"error_severity\":\"LOG\",\"message\":\"duration: {}.5 ms\"}}\n",
        i % 1000, 60 + i % 2, 60 + i % 2, i);
  }
  return s;
}

InputOptions opts() {
  InputOptions o;
  o.samples_per_group = 100000;  // keep every sample and duration: every candidate must arrive
  o.duration_samples = 100000;   // once, whatever the split
  return o;
}

// Samples that overflow at once: which candidates are kept must not depend on the split either.
InputOptions small_samples() {
  InputOptions o;
  o.samples_per_group = 3;
  o.duration_samples = 5;
  return o;
}

void expect_same_at_every_border(const std::string& data, size_t step, const std::string& format,
                                 const std::string& prefix = "", InputOptions o = opts()) {
  o.log_format = format;  // detection is not what this test is about: skip it, per run
  o.log_line_prefix = prefix;
  InputResult one = input::read_buffer_with_borders(data, o, {});
  ASSERT_TRUE(one.errors.empty());
  ASSERT_GT(one.workload.statements, 0u);
  for (uint64_t b = 1; b < data.size(); b += step) {
    InputResult two = input::read_buffer_with_borders(data, o, {b});
    ASSERT_EQ(t::diff_workloads(one.workload, two.workload), "") << "border at byte " << b;
  }
  // Narrow ranges: several borders inside one entry, ranges that start no entry at all.
  for (uint64_t width : {3u, 17u, 64u}) {
    std::vector<uint64_t> borders;
    for (uint64_t b = width; b < data.size(); b += width) borders.push_back(b);
    InputResult many = input::read_buffer_with_borders(data, o, borders);
    ASSERT_EQ(t::diff_workloads(one.workload, many.workload), "") << "ranges of " << width << " bytes";
  }
}

TEST(InputJobs, StderrEveryBorder) {
  std::string data = stderr_log(8);
  InputResult one = input::read_buffer_with_borders(data, opts(), {});
  // The log is what it claims to be: multi-line statements, pairing, garbage and errors.
  EXPECT_EQ(one.workload.statements, 24u);
  EXPECT_EQ(one.workload.unparsable_lines, 2u);
  EXPECT_EQ(one.workload.groups.size(), 4u);  // SELECT from t0, from t1, UPDATE, execute
  expect_same_at_every_border(data, 1, "stderr", "%m [%p] %q%u@%d ");
}

TEST(InputJobs, CsvEveryBorder) { expect_same_at_every_border(csv_log(10), 1, "csvlog"); }

// Full reservoirs: the p95 and the literal samples of a log read in ranges are those of one pass
// (samples are kept by keys drawn from where each entry was logged, not by arrival order).
TEST(InputJobs, OverflowingSamplesAtEveryBorder) {
  std::string data = stderr_log(12);
  InputResult one = input::read_buffer_with_borders(data, small_samples(), {});
  bool overflowed = false;
  for (const auto& [fp, g] : one.workload.groups) {
    overflowed = overflowed || g.sample_seen > 3 || g.timed_calls > 5;
    EXPECT_LE(g.samples.size(), 3u);
    EXPECT_LE(g.duration_reservoir.size(), 5u);
    EXPECT_EQ(g.sample_keys.size(), g.samples.size());
    EXPECT_EQ(g.duration_keys.size(), g.duration_reservoir.size());
  }
  ASSERT_TRUE(overflowed) << "the test needs groups with more candidates than room";
  expect_same_at_every_border(data, 1, "stderr", "%m [%p] %q%u@%d ", small_samples());
  expect_same_at_every_border(csv_log(12), 1, "csvlog", "", small_samples());
  expect_same_at_every_border(json_log(12), 1, "jsonlog", "", small_samples());
}

TEST(InputJobs, JsonEveryBorder) {
  std::string data = json_log(10);
  InputResult one = input::read_buffer_with_borders(data, opts(), {});
  ASSERT_EQ(one.workload.groups.size(), 1u);
  EXPECT_EQ(one.workload.groups.begin()->second.timed_calls, 10u);  // every lone duration paired
  expect_same_at_every_border(data, 1, "jsonlog");
}

// A statement logged (log_statement) just before a border and its duration (log_duration) after
// the next one: the pairing survives a range in between that never mentions the session.
TEST(InputJobs, DurationPairsAcrossRanges) {
  std::string a = "2024-05-01 10:00:00.001 UTC [1] LOG:  statement: SELECT 1\n";
  std::string filler = "2024-05-01 10:00:00.002 UTC [2] LOG:  checkpoint starting: time\n";
  std::string c = "2024-05-01 10:00:00.003 UTC [1] LOG:  duration: 42.000 ms\n";
  std::string data = a + filler + c;
  InputResult r = input::read_buffer_with_borders(data, opts(), {a.size(), a.size() + filler.size()});
  ASSERT_EQ(r.workload.groups.size(), 1u);
  const QueryGroup& g = r.workload.groups.begin()->second;
  EXPECT_EQ(g.calls, 1u);
  EXPECT_EQ(g.timed_calls, 1u);
  EXPECT_DOUBLE_EQ(g.total_ms, 42.0);
}

// Real threads on a real file: --jobs 2 equals --jobs 1.
TEST(InputJobs, ReadLogsWithTwoJobsOnAFile) {
  std::string data = stderr_log(3000);
  ASSERT_GT(data.size(), 2 * input::kMinRangeBytes);
  char path[] = "/tmp/pgopt-input-jobs-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, data.data(), data.size()), ssize_t(data.size()));
  close(fd);
  InputOptions o = opts();
  o.jobs = 1;
  InputResult one = read_logs({path}, o);
  o.jobs = 2;
  InputResult two = read_logs({path}, o);
  o.jobs = 7;
  InputResult seven = read_logs({path}, o);
  InputOptions s = small_samples();
  InputResult small_one = read_logs({path}, s);
  s.jobs = 2;
  InputResult small_two = read_logs({path}, s);
  std::remove(path);
  ASSERT_TRUE(one.errors.empty());
  EXPECT_EQ(one.workload.statements, 9000u);
  EXPECT_EQ(t::diff_workloads(one.workload, two.workload), "");
  EXPECT_EQ(t::diff_workloads(one.workload, seven.workload), "");
  EXPECT_EQ(t::diff_workloads(small_one.workload, small_two.workload), "");
}

TEST(InputJobs, SamplingIsDeterministicPerSeed) {
  std::string data = stderr_log(200);
  InputOptions o;
  o.samples_per_group = 4;
  o.duration_samples = 8;
  InputResult a = read_log_buffer(data, o), b = read_log_buffer(data, o);
  EXPECT_EQ(t::diff_workloads(a.workload, b.workload), "");
  for (const auto& [fp, g] : a.workload.groups) {
    EXPECT_EQ(g.samples.size(), 4u);
    EXPECT_GE(g.sample_seen, 100u);
    EXPECT_LE(g.duration_reservoir.size(), 8u);
  }
  o.seed = 2;
  InputResult c = read_log_buffer(data, o);
  EXPECT_NE(t::diff_workloads(a.workload, c.workload), "") << "another seed should pick other samples";
}

}  // namespace
