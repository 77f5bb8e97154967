// Reads the tab-separated golden files under tests/fixtures/sql/ (format in each file's header).
#pragma once

#include <fstream>
#include <string>
#include <vector>

namespace pgopt::sql::testing {

struct TsvRow {
  int line = 0;
  std::vector<std::string> cells;
};

// \n, \t and \\ escapes, so one row can hold a multi-line statement.
inline std::string tsv_unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      char n = s[i + 1];
      if (n == 'n') { out += '\n'; ++i; continue; }
      if (n == 't') { out += '\t'; ++i; continue; }
      if (n == '\\') { out += '\\'; ++i; continue; }
    }
    out += s[i];
  }
  return out;
}

inline std::string tsv_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\\') out += "\\\\";
    else out += c;
  }
  return out;
}

// Rows of `path`, skipping blank lines and lines starting with '#'. Cells are unescaped.
// An unreadable file yields no rows; callers assert a minimum count so that cannot pass silently.
inline std::vector<TsvRow> read_tsv(const std::string& path) {
  std::vector<TsvRow> rows;
  std::ifstream in(path);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    TsvRow row;
    row.line = number;
    size_t start = 0;
    while (true) {
      size_t tab = line.find('\t', start);
      row.cells.push_back(tsv_unescape(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start)));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace pgopt::sql::testing
