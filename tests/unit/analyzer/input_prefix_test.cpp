// log_line_prefix matching (every escape, padding, %q) and detection of the prefix in use.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "analyzer/input/format_detect.hpp"
#include "analyzer/input/log_prefix.hpp"

using namespace pgopt::analyzer::input;

namespace {

PrefixMatch must_match(const std::string& spec, std::string_view line) {
  PrefixMatch m;
  EXPECT_TRUE(LogLinePrefix::compile(spec).match(line, m)) << spec << " vs " << line;
  return m;
}

bool matches(const std::string& spec, std::string_view line) {
  PrefixMatch m;
  return LogLinePrefix::compile(spec).match(line, m);
}

TEST(InputPrefix, DefaultPrefixFields) {
  auto m = must_match("%m [%p] ", "2024-05-01 10:00:00.123 UTC [4242] LOG:  duration: 1 ms");
  EXPECT_EQ(m.timestamp, "2024-05-01 10:00:00.123 UTC");
  EXPECT_EQ(m.pid, "4242");
  EXPECT_EQ(m.severity, Severity::log);
  EXPECT_EQ(std::string_view("2024-05-01 10:00:00.123 UTC [4242] LOG:  duration: 1 ms").substr(m.message_offset),
            "duration: 1 ms");
}

TEST(InputPrefix, QStopsForNonSessionProcesses) {
  auto m = must_match("%m [%p] %q%u@%d ", "2024-05-01 10:00:00.123 UTC [7] app@shop ERROR:  boom");
  EXPECT_EQ(m.user, "app");
  EXPECT_EQ(m.database, "shop");
  EXPECT_EQ(m.severity, Severity::error);
  m = must_match("%m [%p] %q%u@%d ", "2024-05-01 10:00:00.123 UTC [8] LOG:  checkpoint starting: time");
  EXPECT_EQ(m.user, "");
  EXPECT_EQ(m.pid, "8");
}

TEST(InputPrefix, EveryEscape) {
  std::string spec = "%a|%u|%d|%r|%h|%b|%p|%P|%t|%m|%n|%i|%e|%c|%l|%s|%v|%x|%Q|%% ";
  std::string line =
      "my app|bob|db1|10.0.0.1(5432)|10.0.0.1|client backend|123||2024-05-01 10:00:00 CEST|"
      "2024-05-01 10:00:00.001 CEST|1714550400.001|idle in transaction|42P01|6632a0e0.7b|17|"
      "2024-05-01 09:00:00 CEST|3/17|0|-9000|% DETAIL:  x";
  auto m = must_match(spec, line);
  EXPECT_EQ(m.application, "my app");
  EXPECT_EQ(m.user, "bob");
  EXPECT_EQ(m.database, "db1");
  EXPECT_EQ(m.pid, "123");
  EXPECT_EQ(m.session_id, "6632a0e0.7b");
  EXPECT_EQ(m.timestamp, "2024-05-01 10:00:00 CEST");  // the first time escape wins
  EXPECT_EQ(m.severity, Severity::detail);
}

TEST(InputPrefix, Padding) {
  auto m = must_match("%-10u|%5p|%-8d ", "bob       |  123|shop     LOG:  x");
  EXPECT_EQ(m.user, "bob");
  EXPECT_EQ(m.pid, "123");
  EXPECT_EQ(m.database, "shop");
  // A value longer than the width is printed whole.
  m = must_match("%-3u|", "postgres|LOG:  x");
  EXPECT_EQ(m.user, "postgres");
}

TEST(InputPrefix, RejectsLinesOfAnotherShape) {
  EXPECT_FALSE(matches("%m [%p] ", "2024-05-01 10:00:00 UTC [1] LOG:  no milliseconds"));
  EXPECT_FALSE(matches("%t [%p] ", "2024-05-01 10:00:00 UTC [x] LOG:  pid is not a number"));
  EXPECT_FALSE(matches("%m [%p] ", "2024-05-01 10:00:00.123 UTC [1] SOMETHING:  not a severity"));
  EXPECT_FALSE(matches("%m [%p] ", "\tcontinuation line"));
  EXPECT_FALSE(matches("%u@%d ", "two words@db LOG:  user names without spaces only"));
}

TEST(InputPrefix, SeverityNeedsTwoSpaces) {
  size_t len = 0;
  EXPECT_EQ(parse_severity("LOG:  x", &len), Severity::log);
  EXPECT_EQ(len, 6u);
  EXPECT_EQ(parse_severity("LOG: x", &len), Severity::none);
  EXPECT_EQ(parse_severity("DEBUG3:  x", &len), Severity::debug);
  EXPECT_TRUE(is_secondary(parse_severity("STATEMENT:  x", &len)));
  EXPECT_EQ(severity_from_word("PANIC"), Severity::panic);
  EXPECT_EQ(severity_from_word("LOGX"), Severity::none);
  EXPECT_EQ(severity_from_word(std::string_view{}), Severity::none);  // null data: found by fuzz_log_reader
}

TEST(InputPrefix, GenericFallbackAnchorsOnSeverity) {
  auto g = LogLinePrefix::generic();
  PrefixMatch m;
  ASSERT_TRUE(g.match("<2024-05-01 10:00:00.5 UTC> {pid [99-1]} LOG:  duration: 1.0 ms", m));
  EXPECT_EQ(m.pid, "99");
  ASSERT_TRUE(g.match("2024-05-01 10:00:00.123 UTC:h(1):u@d:[77]:ERROR:  x", m));
  EXPECT_EQ(m.severity, Severity::error);
  EXPECT_EQ(m.timestamp, "2024-05-01 10:00:00.123 UTC");
  EXPECT_FALSE(g.match("no severity here: at all", m));
}

// A line as PostgreSQL would write it for `spec`, for a session process.
std::string render(const std::string& spec, const std::string& message) {
  std::string out;
  for (size_t i = 0; i < spec.size(); ++i) {
    if (spec[i] != '%' || i + 1 == spec.size()) {
      out += spec[i];
      continue;
    }
    switch (spec[++i]) {
      case 'm': out += "2024-05-01 10:00:00.123 UTC"; break;
      case 't': out += "2024-05-01 10:00:00 UTC"; break;
      case 'p': out += "4242"; break;
      case 'l': out += "7"; break;
      case 'u': out += "app"; break;
      case 'd': out += "shop"; break;
      case 'a': out += "psql"; break;
      case 'h': out += "10.0.0.5"; break;
      case 'r': out += "10.0.0.5(51000)"; break;
      case 'c': out += "6632a0e0.1092"; break;
      case 'q': break;
      case '%': out += '%'; break;
      default: break;
    }
  }
  return out + "LOG:  " + message;
}

TEST(InputPrefix, DetectsEachCommonPrefix) {
  for (const std::string& spec : common_prefixes()) {
    std::string log;
    for (int i = 0; i < 20; ++i) log += render(spec, fmt::format("duration: {}.5 ms  statement: SELECT {}", i, i)) + "\n";
    Detection d = detect_format(log, "auto", "");
    ASSERT_EQ(d.format, LogFormat::stderr_log) << spec;
    // Another candidate may match the same lines equally well; it must then parse them too.
    PrefixMatch m;
    size_t matched = 0;
    size_t p = 0;
    for (size_t nl; (nl = log.find('\n', p)) != std::string::npos; p = nl + 1)
      matched += d.prefix.match(std::string_view(log).substr(p, nl - p), m) && m.severity == Severity::log;
    EXPECT_EQ(matched, 20u) << spec << " detected as " << d.prefix.spec();
    // Lines without session details are also what a "<spec>%q..." prefix writes, and such a
    // prefix parses both kinds of lines: it may win, nothing else may.
    if (spec.find("%q") == std::string::npos && spec.find("%c") == std::string::npos) {
      EXPECT_TRUE(d.prefix.spec() == spec || d.prefix.spec().rfind(spec + "%q", 0) == 0) << d.description;
    }
  }
}

// A log that starts with a server start (no session lines) must not lock in a prefix that cannot
// parse the session lines further down.
TEST(InputPrefix, DebianPrefixWinsOverNonSessionHead) {
  std::string log;
  for (int i = 0; i < 30; ++i) log += fmt::format("2024-05-01 10:00:00.{:03} UTC [{}] LOG:  checkpoint starting: time\n", i, i);
  Detection d = detect_format(log, "auto", "");
  EXPECT_EQ(d.prefix.spec(), "%m [%p] %q%u@%d ");
  EXPECT_NE(d.description.find("none of them showed the part after %q"), std::string::npos) << d.description;
  PrefixMatch m;
  ASSERT_TRUE(d.prefix.match("2024-05-01 10:00:01.000 UTC [99] app@shop LOG:  statement: SELECT 1", m));
  EXPECT_EQ(m.user, "app");
  ASSERT_TRUE(d.prefix.match("2024-05-01 10:00:01.000 UTC [99] LOG:  statement: SELECT 1", m));
  EXPECT_TRUE(m.stopped_at_q);
}

TEST(InputPrefix, InfersAnUnusualPrefix) {
  std::string log;
  for (int i = 0; i < 10; ++i)
    log += fmt::format("time=2024-05-01 10:00:0{}.100 UTC pid={} user=u{} db=crm app=web LOG:  statement: SELECT {}\n",
                       i, 100 + i, i, i);
  Detection d = detect_format(log, "auto", "");
  EXPECT_EQ(d.prefix.spec(), "time=%m pid=%p user=%u db=%d app=%a ") << d.description;
  EXPECT_NE(d.description.find("inferred"), std::string::npos);
}

TEST(InputPrefix, DetectsCsvAndJson) {
  EXPECT_EQ(detect_format("2024-05-01 10:00:00.123 UTC,\"u\",\"d\",1,,6632a0e0.1,1,,,,0,LOG,00000,\"x\",,,,,,,,,\"\",\"client backend\",,0\n",
                          "auto", "").format,
            LogFormat::csvlog);
  EXPECT_EQ(detect_format("{\"timestamp\":\"2024-05-01 10:00:00.123 UTC\",\"pid\":1}\n", "auto", "").format,
            LogFormat::jsonlog);
  EXPECT_EQ(detect_format("whatever\n", "jsonlog", "").format, LogFormat::jsonlog);
  EXPECT_FALSE(detect_format("x\n", "xml", "").error.empty());
}

}  // namespace
