// Small helpers the analyzer's end-to-end tests share: whole files, and the CREATE INDEX lines of
// a report.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace pgopt::test::analyzer_util {

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::vector<std::string> create_lines(const std::string& sql) {
  std::vector<std::string> out;
  std::istringstream in(sql);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("CREATE INDEX", 0) == 0) out.push_back(line);
  return out;
}

}  // namespace pgopt::test::analyzer_util
