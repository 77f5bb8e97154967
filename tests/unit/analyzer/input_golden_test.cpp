// Golden tests: every log in tests/fixtures/logs/ is read and its workload compared with
// <name>.expected.json. PGOPT_UPDATE_GOLDEN=1 rewrites the expected files (review the diff!).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "analyzer/input.hpp"
#include "analyzer/input/log_input.hpp"
#include "tests/unit/analyzer/input_test_util.hpp"

namespace fs = std::filesystem;
using namespace pgopt::analyzer;

namespace {

const std::string kDir = std::string(PGOPT_FIXTURES) + "/logs/";

bool is_log_fixture(const fs::path& p) {
  std::string n = p.filename().string();
  auto ends = [&](const char* s) { return n.size() >= std::strlen(s) && n.compare(n.size() - std::strlen(s), std::string::npos, s) == 0; };
  return !(ends(".expected.json") || ends(".options") || ends(".sh") || ends(".md"));
}

std::vector<std::string> fixtures() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(kDir))
    if (e.is_regular_file() && is_log_fixture(e.path())) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string stem(const std::string& file) { return file.substr(0, file.find('.')); }

InputOptions options_for(const std::string& file) {
  InputOptions o;
  std::string opts = input_testing::read_file(kDir + stem(file) + ".options");
  size_t p = 0;
  while (p < opts.size()) {
    size_t nl = opts.find('\n', p);
    std::string line = opts.substr(p, nl == std::string::npos ? std::string::npos : nl - p);
    p = nl == std::string::npos ? opts.size() : nl + 1;
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string k = line.substr(0, eq), v = line.substr(eq + 1);
    if (k == "log_line_prefix") o.log_line_prefix = v;
    else if (k == "log_format") o.log_format = v;
  }
  return o;
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, MatchesExpected) {
  const std::string file = GetParam();
  InputOptions o = options_for(file);
  InputResult r = read_logs({kDir + file}, o);
  std::string got = input_testing::dump(r.workload, r.errors, kDir);
  std::string expected_path = kDir + stem(file) + ".expected.json";
  if (std::getenv("PGOPT_UPDATE_GOLDEN")) {
    input_testing::write_file(expected_path, got);
    GTEST_SKIP() << "rewrote " << expected_path;
  }
  ASSERT_TRUE(fs::exists(expected_path)) << "no golden for " << file << " (run with PGOPT_UPDATE_GOLDEN=1)";
  EXPECT_EQ(input_testing::read_file(expected_path), got) << "workload of " << file << " differs from its golden";
}

// The same fixture read from memory in ranges of a few hundred bytes (every border lands somewhere
// new) must give the very same workload as one sequential read.
TEST_P(Golden, SplitReadingChangesNothing) {
  const std::string file = GetParam();
  InputOptions o = options_for(file);
  o.samples_per_group = 1000;  // no reservoir overflows: then splitting must be exact
  std::string data = input_testing::read_file(kDir + file);
  InputResult one = input::read_buffer_with_borders(data, o, {});
  for (uint64_t step : {97u, 389u, 1021u}) {
    std::vector<uint64_t> borders;
    for (uint64_t b = step; b < data.size(); b += step) borders.push_back(b);
    InputResult many = input::read_buffer_with_borders(data, o, borders);
    EXPECT_EQ(input_testing::diff_workloads(one.workload, many.workload), "") << file << " split every " << step;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Golden, ::testing::ValuesIn(fixtures()),
                         [](const ::testing::TestParamInfo<std::string>& i) {
                           std::string n = i.param;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

}  // namespace
