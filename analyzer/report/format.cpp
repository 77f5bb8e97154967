// Size formatting and parsing shared by the reports and the CLI.
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "analyzer/report/report.hpp"

namespace pgopt::analyzer::report {

std::string human_bytes(double bytes) {
  const char* units[] = {"bytes", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1024 * 10 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f %s", std::round(bytes), units[u]);
  return buf;
}

bool parse_size(const std::string& text, double& bytes) {
  const char* s = text.c_str();
  char* end = nullptr;
  double v = std::strtod(s, &end);
  if (end == s || v < 0 || !std::isfinite(v)) return false;
  std::string unit;
  for (const char* p = end; *p; ++p)
    if (!std::isspace(static_cast<unsigned char>(*p))) unit += char(std::tolower(static_cast<unsigned char>(*p)));
  double mult;
  if (unit.empty() || unit == "b" || unit == "bytes") mult = 1;
  else if (unit == "kb" || unit == "k") mult = 1024;
  else if (unit == "mb" || unit == "m") mult = 1024.0 * 1024;
  else if (unit == "gb" || unit == "g") mult = 1024.0 * 1024 * 1024;
  else if (unit == "tb" || unit == "t") mult = 1024.0 * 1024 * 1024 * 1024;
  else return false;
  bytes = v * mult;
  return true;
}

}  // namespace pgopt::analyzer::report
