// Golden tests: SQL in tests/fixtures/extract/*.test -> the per-table access patterns it must yield.
//
// File format (one or more cases per file):
//   columns <relation> <col> <col> ...   table definitions for resolving unqualified columns
//   query <name>                          starts a case; SQL follows up to a line "----"
//   ----                                  expected lines follow, up to a blank line or EOF
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "sql/extract.hpp"

namespace {

using pgopt::sql::Extraction;
using pgopt::sql::ValueKind;

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// Canonical, line-per-fact rendering; the golden files are written in this form.
std::string render(const Extraction& e) {
  std::ostringstream o;
  if (!e.ok) {
    o << "error " << e.error.message << "\n";
    return o.str();
  }
  o << "command " << e.command << "\n";
  for (const auto& r : e.reads) {
    o << "read " << r.relation << (r.alias.empty() ? "" : " as " + r.alias) << (r.write_target ? " (write target)" : "")
      << "\n";
    for (const auto& p : r.predicates) {
      o << "  pred " << p.column << " " << to_string(p.kind) << " " << p.op;
      switch (p.value) {
        case ValueKind::Literal: o << " literal " << join(p.literals, ","); break;
        case ValueKind::Parameter: o << " param"; break;
        case ValueKind::Expression: o << " expr"; break;
        case ValueKind::None: break;
      }
      if (!p.base_column.empty()) {
        o << " (expression of " << p.base_column << ")";
      } else if (!p.expression.empty()) {
        o << " on " << p.expression;
      }
      if (p.under_or) o << " (or)";
      o << "\n";
    }
    for (const auto& j : r.joins) o << "  join " << j.column << " = " << j.other_relation << "." << j.other_column << "\n";
    for (const auto& s : r.order_by)
      o << "  order " << s.column << (s.descending ? " desc" : " asc") << (s.nulls_first ? " nulls first" : "") << "\n";
    if (!r.group_by.empty()) o << "  group " << join(r.group_by, ",") << "\n";
    if (r.has_limit) o << "  limit " << (r.limit ? std::to_string(*r.limit) : "param") << "\n";
    o << "  columns " << (r.all_columns ? "* " : "") << join(r.columns, ",") << "\n";
  }
  for (const auto& w : e.writes) {
    o << "write " << w.relation << " " << to_string(w.kind);
    if (!w.set_columns.empty()) o << " set " << join(w.set_columns, ",");
    if (w.rows != 1) o << " rows " << w.rows;
    o << "\n";
  }
  if (!e.unresolved.empty()) o << "unresolved " << join(e.unresolved, ",") << "\n";
  return o.str();
}

struct Case {
  std::string name, sql, expected;
  int line = 0;
};

struct GoldenFile {
  std::map<std::string, std::set<std::string>> columns;
  std::vector<Case> cases;
};

GoldenFile load(const std::filesystem::path& path) {
  GoldenFile g;
  std::ifstream in(path);
  std::string line;
  int n = 0;
  enum { Top, Sql, Expected } state = Top;
  Case c;
  auto flush = [&] {
    if (!c.name.empty()) g.cases.push_back(c);
    c = Case{};
  };
  while (std::getline(in, line)) {
    ++n;
    if (state == Top) {
      if (line.rfind("columns ", 0) == 0) {
        std::istringstream ls(line.substr(8));
        std::string rel, col;
        ls >> rel;
        while (ls >> col) g.columns[rel].insert(col);
      } else if (line.rfind("query ", 0) == 0) {
        c.name = line.substr(6);
        c.line = n;
        state = Sql;
      }
    } else if (state == Sql) {
      if (line == "----") {
        state = Expected;
      } else {
        c.sql += line + "\n";
      }
    } else {
      if (line.empty()) {
        flush();
        state = Top;
      } else {
        c.expected += line + "\n";
      }
    }
  }
  if (state == Expected) flush();
  return g;
}

TEST(ExtractGolden, AllFixtureFilesMatch) {
  std::filesystem::path dir = std::filesystem::path(PGOPT_FIXTURES) / "extract";
  size_t files = 0, cases = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".test") continue;
    ++files;
    GoldenFile g = load(entry.path());
    auto owner = [&g](std::string_view rel, std::string_view col) {
      auto it = g.columns.find(std::string(rel));
      return it != g.columns.end() && it->second.count(std::string(col));
    };
    for (const auto& c : g.cases) {
      ++cases;
      Extraction e = g.columns.empty() ? pgopt::sql::extract(c.sql) : pgopt::sql::extract(c.sql, owner);
      EXPECT_EQ(render(e), c.expected) << entry.path().filename().string() << ":" << c.line << " (" << c.name << ")\n"
                                       << c.sql;
    }
  }
  EXPECT_GE(files, 3u);
  EXPECT_GE(cases, 30u);
}

}  // namespace
