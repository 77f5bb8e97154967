// Differential test of sql::analyze() against the per-question scans it replaced
// (prefilter_reference.cpp, main at de3da2d): over every line, ;-piece and whole file of SQL-ish
// text in tests/fixtures, every string literal of the unit tests, and generated variants of them
// (case, comments, quotes, dollar quotes, ;-joins), the literal-free key and the pattern marks must
// be identical; where the session gate says no and the old one said yes, the parser must find no
// effects; and wherever any new gate says no, the parser (session_effects, cursor_commands,
// prepared_command) must agree. The corpus size and the differences are printed.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "sql/cursor_commands.hpp"
#include "sql/prepared_commands.hpp"
#include "sql/session_effects.hpp"
#include "sql/statement_info.hpp"
#include "unit/sql/prefilter_reference.hpp"

namespace pgopt::sql {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The "..." literals of a C++ source (escapes \" \\ \n \t undone; raw strings skipped).
void cpp_literals(const std::string& src, std::vector<std::string>& out) {
  for (size_t i = 0; i < src.size(); ++i) {
    if (src[i] != '"' || (i > 0 && (src[i - 1] == '\'' || src[i - 1] == 'R'))) continue;
    std::string s;
    size_t j = i + 1;
    for (; j < src.size() && src[j] != '"' && src[j] != '\n'; ++j) {
      if (src[j] == '\\' && j + 1 < src.size()) {
        const char e = src[++j];
        s += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
      } else {
        s += src[j];
      }
    }
    if (j < src.size() && src[j] == '"') out.push_back(s);
    i = j;
  }
}

void pieces(const std::string& text, std::vector<std::string>& out) {
  if (text.size() <= 64 * 1024) out.push_back(text);
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    out.push_back(line);
    for (size_t b = 0, e; b < line.size(); b = e + 1) {
      e = line.find(';', b);
      if (e == std::string::npos) e = line.size();
      if (b > 0 || e < line.size()) out.push_back(line.substr(b, e - b));
    }
  }
}

std::vector<std::string> base_corpus() {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(PGOPT_FIXTURES)) {
    const std::string ext = e.path().extension().string();
    if (!e.is_regular_file() || !(ext == ".sql" || ext == ".tsv" || ext == ".test" || ext == ".log" ||
                                  ext == ".txt" || ext == ".csv" || ext == ".expected" || ext == ".golden"))
      continue;
    pieces(read_file(e.path()), out);
  }
  for (const char* dir : {"/tests/unit/sql", "/tests/unit/pooler", "/tests/unit/capture"}) {
    const fs::path d = fs::path(PGOPT_SOURCE_DIR + std::string(dir));
    if (!fs::exists(d)) continue;
    for (const auto& e : fs::recursive_directory_iterator(d))
      if (e.is_regular_file() && e.path().extension() == ".cpp") cpp_literals(read_file(e.path()), out);
  }
  std::set<std::string> seen(out.begin(), out.end());
  return {seen.begin(), seen.end()};
}

std::string toggled(std::string s) {
  bool up = false;
  for (char& c : s)
    if (std::isalpha(static_cast<unsigned char>(c))) c = (up = !up) ? char(std::toupper(c)) : char(std::tolower(c));
  return s;
}

std::string doubled(const std::string& s, char q) {
  std::string out;
  for (char c : s) {
    if (c == q) out += q;
    out += c;
  }
  return out;
}

std::vector<std::string> variants(const std::string& s) {
  std::string upper = s, lower = s;
  for (char& c : upper) c = char(std::toupper(static_cast<unsigned char>(c)));
  for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  return {s, upper, lower, toggled(s),
          "/* c */ " + s, "-- c\n" + s, s + " -- set", s + " /* hold ( */", "/* a /* nested */ b */" + s,
          "SELECT '" + doubled(s, '\'') + "'", "SELECT E'" + doubled(s, '\'') + "'", "SELECT \"" + doubled(s, '"') + "\"",
          "SELECT $$" + s + "$$", "SELECT $q$" + s + "$q$", "SELECT 1; " + s, s + "; SET x = 1", "UPDATE t SET a = 1; " + s,
          s + ";" + s, "'" + s, "\"" + s, "$$" + s, "/*" + s};
}

// The contract itself: where the new gates say no, the parser finds nothing.
void check_with_parser(const std::string& sql, const StatementInfo& info, std::vector<std::string>& failures) {
  if (!info.may(Mark::SessionEffects) && session_effects(sql).any()) failures.push_back("parser session: " + sql);
  if (!info.may(Mark::CursorCommand) && !cursor_commands(sql).empty()) failures.push_back("parser cursor: " + sql);
  if (!info.may(Mark::PreparedCommand) &&
      (prepared_command(sql).kind != PreparedCommand::Kind::None || !prepared_commands_in(sql).empty()))
    failures.push_back("parser prepared: " + sql);
}

struct Diff {
  size_t strings = 0, more_conservative = 0, quote_in_text = 0, other_less = 0;
  std::vector<std::string> failures, conservative_cases, quote_cases, other_cases;
};

void compare(const std::string& sql, Diff& d) {
  ++d.strings;
  StatementInfo info;
  analyze(sql, info);
  auto fail = [&](const char* what) { d.failures.push_back(std::string(what) + ": " + sql); };
  std::string key;
  const bool keyed = reference::literal_free_key(sql, key);
  if (keyed != info.keyed() || (keyed && key != info.key())) fail("key");
  if (reference::may_write_tables(sql) != info.may(Mark::WritesTables)) fail("writes");
  if (reference::may_have_cursor_commands(sql) != info.may(Mark::CursorCommand)) fail("cursor");
  if (reference::may_be_prepared_command(sql) != info.may(Mark::PreparedCommand)) fail("prepared");
  if (reference::mentions_statement_view(sql) != info.may(Mark::StatementView)) fail("view");
  if (reference::mentions_pg_settings(sql) != info.may(Mark::PgSettings)) fail("pg_settings");
  if (reference::calls_sequence_function(sql) != info.may(Mark::SequenceCall)) fail("sequence");
  check_with_parser(sql, info, d.failures);
  const bool old_session = reference::may_have_session_effects(sql);
  if (old_session && !info.may(Mark::SessionEffects)) {
    // Allowed only where the parser finds no effects either (check_with_parser() fails otherwise):
    // the old gate read quotes and comments approximately. Mostly a `"` inside a literal, comment
    // or $$ body taken for a quoted name (without the `"`s the old gate says no too); else an
    // `update` the old gate thought commented out, or a `;` inside a literal it took for the end
    // of a statement, in front of a `set` that is not a statement's first token.
    std::string unquoted = sql;
    std::replace(unquoted.begin(), unquoted.end(), '"', ' ');
    if (!reference::may_have_session_effects(unquoted)) {
      ++d.quote_in_text;
      if (d.quote_cases.size() < 3) d.quote_cases.push_back(sql);
    } else {
      ++d.other_less;
      if (d.other_cases.size() < 6) d.other_cases.push_back(sql);
    }
  }
  if (!old_session && info.may(Mark::SessionEffects)) {
    ++d.more_conservative;
    if (d.conservative_cases.size() < 15) d.conservative_cases.push_back(sql);
  }
}

TEST(StatementInfoDiff, AgreesWithTheOldScansOverTheCorpus) {
  const std::vector<std::string> base = base_corpus();
  ASSERT_GT(base.size(), 1000u);
  Diff d;
  for (const auto& s : base)
    for (const auto& v : variants(s)) compare(v, d);
  std::cout << "corpus: " << base.size() << " base strings, " << d.strings << " with variants; differences: "
            << d.failures.size() << "; session gate more conservative on " << d.more_conservative
            << "; less conservative (the parser agreeing: no effects) on " << d.quote_in_text
            << " for a \" inside a literal or comment and on " << d.other_less << " others\n";
  for (const auto& c : d.quote_cases) std::cout << "  \" inside text: " << c.substr(0, 160) << "\n";
  for (const auto& c : d.other_cases) std::cout << "  less conservative: " << c.substr(0, 160) << "\n";
  for (const auto& c : d.conservative_cases) std::cout << "  more conservative: " << c.substr(0, 160) << "\n";
  for (size_t i = 0; i < d.failures.size() && i < 40; ++i) ADD_FAILURE() << d.failures[i].substr(0, 300);
  EXPECT_TRUE(d.failures.empty()) << d.failures.size() << " differences";
}

}  // namespace
}  // namespace pgopt::sql
