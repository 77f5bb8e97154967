// Duration and size syntax: table tests of what parses to what, and the errors for what doesn't.
#include "pooler/config/units.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pooler/config/suggest.hpp"

using namespace pgopt::pooler;
using std::chrono::milliseconds;

namespace {

struct DurationCase {
  std::string text;
  int64_t ms;
};

TEST(Units, DurationsParse) {
  const std::vector<DurationCase> cases = {
      {"0", 0},
      {"0s", 0},
      {"30", 30'000},
      {"30s", 30'000},
      {"500ms", 500},
      {"5min", 300'000},
      {"2h", 7'200'000},
      {"1d", 86'400'000},
      {"1.5s", 1'500},
      {"1.5h", 5'400'000},
      {"0.001s", 1},
      {"30 s", 30'000},
      {" 10s ", 10'000},
      {"\t7ms", 7},
      {"365d", 31'536'000'000},
      {"0.5min", 30'000},
      {"007s", 7'000},
      {"1.000000000d", 86'400'000},
  };
  for (const auto& c : cases) {
    auto r = parse_duration(c.text);
    ASSERT_TRUE(r.value.has_value()) << c.text << ": " << r.error;
    EXPECT_EQ(r.value->count(), c.ms) << c.text;
    EXPECT_TRUE(r.error.empty()) << c.text;
  }
}

struct BadCase {
  std::string text;
  std::string error;
};

TEST(Units, DurationsRefused) {
  const std::vector<BadCase> cases = {
      {"", "\"\" is not a duration: expected a number and a unit such as \"30s\""},
      {"s", "\"s\" is not a duration: expected a number and a unit such as \"30s\""},
      {".5s", "\".5s\" is not a duration: expected a number and a unit such as \"30s\""},
      {"1.s", "\"1.s\" is not a duration: expected a number and a unit such as \"30s\""},
      {"+5s", "\"+5s\" is not a duration: expected a number and a unit such as \"30s\""},
      {"-1s", "\"-1s\" is negative; a duration must be >= 0"},
      {"5m", "\"5m\" has an unknown unit \"m\" (valid units: ms, s, min, h, d)"},
      {"5 sec", "\"5 sec\" has an unknown unit \"sec\" (valid units: ms, s, min, h, d)"},
      {"5s5", "\"5s5\" has an unknown unit \"s5\" (valid units: ms, s, min, h, d)"},
      {"5H", "\"5H\" has an unknown unit \"H\"; did you mean \"h\"? (units are case-sensitive)"},
      {"1.5ms", "\"1.5ms\" is not a whole number of milliseconds"},
      {"0.0001s", "\"0.0001s\" is not a whole number of milliseconds"},
      {"366d", "\"366d\" is too long (at most 365d)"},
      {"365.5d", "\"365.5d\" is too long (at most 365d)"},
      {"99999999999999999999999s", "\"99999999999999999999999s\" is too large"},
      {"1.0000000001s", "\"1.0000000001s\" has more than 9 decimal places"},
      {"5\ns", "\"5\\u000As\" has an unknown unit \"\\u000As\" (valid units: ms, s, min, h, d)"},
  };
  for (const auto& c : cases) {
    auto r = parse_duration(c.text);
    EXPECT_FALSE(r.value.has_value()) << c.text;
    EXPECT_EQ(r.error, c.error) << c.text;
  }
}

TEST(Units, DurationsFromNumbers) {
  EXPECT_EQ(duration_from_seconds(int64_t{0}).value, milliseconds(0));
  EXPECT_EQ(duration_from_seconds(int64_t{90}).value, milliseconds(90'000));
  EXPECT_EQ(duration_from_seconds(0.1).value, milliseconds(100));  // 100.00000000000001 in binary
  EXPECT_EQ(duration_from_seconds(0.25).value, milliseconds(250));
  EXPECT_EQ(duration_from_seconds(2.5).value, milliseconds(2'500));
  EXPECT_EQ(duration_from_seconds(int64_t{31'536'000}).value, milliseconds(31'536'000'000));

  EXPECT_EQ(duration_from_seconds(int64_t{-1}).error, "-1 is negative; a duration must be >= 0");
  EXPECT_EQ(duration_from_seconds(-0.5).error, "-0.5 is negative; a duration must be >= 0");
  EXPECT_EQ(duration_from_seconds(int64_t{31'536'001}).error,
            "31536001 seconds is too long (at most 365d)");
  EXPECT_EQ(duration_from_seconds(1e300).error, "1e+300 seconds is too long (at most 365d)");
  EXPECT_EQ(duration_from_seconds(0.0015).error,
            "0.0015 seconds is not a whole number of milliseconds");
  EXPECT_EQ(duration_from_seconds(std::numeric_limits<double>::infinity()).error,
            "inf is not a finite number of seconds");
  EXPECT_FALSE(duration_from_seconds(std::numeric_limits<double>::quiet_NaN()).value);
  EXPECT_FALSE(duration_from_seconds(std::numeric_limits<int64_t>::max()).value);
}

TEST(Units, SizesParse) {
  const std::vector<std::pair<std::string, uint64_t>> cases = {
      {"0", 0},
      {"1024", 1024},
      {"512B", 512},
      {"8kB", 8192},
      {"64MB", 64ULL << 20},
      {"1GB", 1ULL << 30},
      {"2TB", 2ULL << 40},
      {"16 MB", 16ULL << 20},
      {" 1kB ", 1024},
  };
  for (const auto& [text, bytes] : cases) {
    auto r = parse_size(text);
    ASSERT_TRUE(r.value.has_value()) << text << ": " << r.error;
    EXPECT_EQ(*r.value, bytes) << text;
  }
}

TEST(Units, SizesRefused) {
  const std::vector<BadCase> cases = {
      {"", "\"\" is not a size: expected a number and a unit such as \"64MB\""},
      {"MB", "\"MB\" is not a size: expected a number and a unit such as \"64MB\""},
      {"-1kB", "\"-1kB\" is negative; a size must be >= 0"},
      {"1.5MB", "\"1.5MB\" is not a whole number; write e.g. \"1536kB\" instead of \"1.5MB\""},
      {"64mb",
       "\"64mb\" has an unknown unit \"mb\"; did you mean \"MB\"? (units are case-sensitive)"},
      {"8KB",
       "\"8KB\" has an unknown unit \"KB\"; did you mean \"kB\"? (units are case-sensitive)"},
      {"8k", "\"8k\" has an unknown unit \"k\" (valid units: B, kB, MB, GB, TB)"},
      {"1PB", "\"1PB\" has an unknown unit \"PB\" (valid units: B, kB, MB, GB, TB)"},
      {"20000000TB", "\"20000000TB\" is too large"},
      {"18446744073709551616", "\"18446744073709551616\" is too large"},
  };
  for (const auto& c : cases) {
    auto r = parse_size(c.text);
    EXPECT_FALSE(r.value.has_value()) << c.text;
    EXPECT_EQ(r.error, c.error) << c.text;
  }
}

TEST(Units, FormatPicksTheLargestExactUnit) {
  EXPECT_EQ(format_duration(milliseconds(0)), "0s");
  EXPECT_EQ(format_duration(milliseconds(1)), "1ms");
  EXPECT_EQ(format_duration(milliseconds(1'500)), "1500ms");
  EXPECT_EQ(format_duration(milliseconds(120'000)), "2min");
  EXPECT_EQ(format_duration(milliseconds(90'000)), "90s");
  EXPECT_EQ(format_duration(milliseconds(3'600'000)), "1h");
  EXPECT_EQ(format_duration(milliseconds(172'800'000)), "2d");
  EXPECT_EQ(format_size(0), "0B");
  EXPECT_EQ(format_size(1000), "1000B");
  EXPECT_EQ(format_size(1536), "1536B");
  EXPECT_EQ(format_size(8192), "8kB");
  EXPECT_EQ(format_size(64ULL << 20), "64MB");
  EXPECT_EQ(format_size(1ULL << 30), "1GB");
  EXPECT_EQ(format_size(3ULL << 40), "3TB");
}

TEST(Units, FormatThenParseRoundTrips) {
  for (int64_t ms : {0LL, 1LL, 999LL, 1'000LL, 61'000LL, 3'600'000LL, 86'400'000LL,
                     31'536'000'000LL, 123'456'789LL}) {
    auto r = parse_duration(format_duration(milliseconds(ms)));
    ASSERT_TRUE(r.value) << ms;
    EXPECT_EQ(r.value->count(), ms);
  }
  for (uint64_t b : {0ULL, 1ULL, 1023ULL, 1024ULL, 1536ULL, 64ULL << 20, 1ULL << 30, 5ULL << 40}) {
    auto r = parse_size(format_size(b));
    ASSERT_TRUE(r.value) << b;
    EXPECT_EQ(*r.value, b);
  }
}

TEST(Suggest, EditDistance) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("listen_port", "listen_port"), 0u);
  EXPECT_EQ(edit_distance("listen_prot", "listen_port"), 1u);  // one swap
  EXPECT_EQ(edit_distance("pool_mdoe", "pool_mode"), 1u);
  EXPECT_EQ(edit_distance("hots", "host"), 1u);
  EXPECT_EQ(edit_distance("workrs", "workers"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(Suggest, ClosestMatch) {
  const std::vector<std::string_view> keys = {"host", "port", "dbname", "pool_size"};
  EXPECT_EQ(closest_match("hots", keys), "host");
  EXPECT_EQ(closest_match("prot", keys), "port");
  EXPECT_EQ(closest_match("db_name", keys), "dbname");
  EXPECT_EQ(closest_match("poolsize", keys), "pool_size");
  EXPECT_EQ(closest_match("password", keys), std::nullopt);
  EXPECT_EQ(closest_match("host", keys), std::nullopt);  // exact: nothing to suggest
  EXPECT_EQ(closest_match("ab", std::vector<std::string_view>{"cd"}), std::nullopt);
  EXPECT_EQ(closest_match("hostt", keys, 0), std::nullopt);
}

}  // namespace
