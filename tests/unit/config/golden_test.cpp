// Golden files: each tests/fixtures/config/*.toml is parsed and the result compared with the
// sibling .expected file: the exact error lines for bad_*, dump_config() output for good_*.
// PGOPT_UPDATE_GOLDEN=1 rewrites the .expected files (review the diff before keeping it).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "pooler/config/config.hpp"

namespace fs = std::filesystem;
using pgopt::pooler::dump_config;
using pgopt::pooler::format_errors;
using pgopt::pooler::parse_config;

namespace {

const fs::path kDir = fs::path(PGOPT_FIXTURES) / "config";

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> fixtures() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(kDir)) {
    if (e.path().extension() == ".toml") out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// What a fixture produces, in the .expected format.
std::string actual_for(const std::string& name) {
  // The bare file name as the path keeps messages independent of where the tree is checked out.
  auto result = parse_config(read_file(kDir / name), name);
  if (name.starts_with("bad_")) return format_errors(result.errors);
  if (!result.errors.empty()) return "unexpected errors:\n" + format_errors(result.errors);
  return dump_config(*result.config);
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, MatchesExpected) {
  const std::string name = GetParam();
  const fs::path expected_path = kDir / (fs::path(name).stem().string() + ".expected");
  const std::string actual = actual_for(name);
  if (const char* update = std::getenv("PGOPT_UPDATE_GOLDEN"); update && *update == '1') {
    std::ofstream(expected_path, std::ios::binary) << actual;
    GTEST_SKIP() << "rewrote " << expected_path;
  }
  ASSERT_TRUE(fs::exists(expected_path)) << "missing " << expected_path;
  EXPECT_EQ(read_file(expected_path), actual) << "fixture " << name;
  if (name.starts_with("bad_")) {
    EXPECT_FALSE(actual.empty()) << name << " is a bad_ fixture but parses cleanly";
  }
}

TEST(GoldenSet, HasBothKinds) {
  const auto all = fixtures();
  EXPECT_GE(std::count_if(all.begin(), all.end(), [](auto& n) { return n.starts_with("bad_"); }),
            10);
  EXPECT_GE(std::count_if(all.begin(), all.end(), [](auto& n) { return n.starts_with("good_"); }),
            2);
}

TEST(GoldenSet, EveryExpectedFileHasAFixture) {
  for (const auto& e : fs::directory_iterator(kDir)) {
    if (e.path().extension() != ".expected") continue;
    fs::path toml = e.path();
    toml.replace_extension(".toml");
    EXPECT_TRUE(fs::exists(toml)) << "orphan " << e.path();
  }
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = fs::path(info.param).stem().string();
  std::replace_if(
      n.begin(), n.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
  return n;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Golden, ::testing::ValuesIn(fixtures()), test_name);

}  // namespace
