// The lexical gates in front of session_effects() (may_have_session_effects, may_write_tables) and
// custom_setting_names(). The gates are read from the one scan per statement, sql::analyze()
// (statement_info.hpp states their rules and the argument why they never miss).
#include <algorithm>
#include <string>
#include <vector>

#include "sql/deep_stack.hpp"
#include "sql/session_effects.hpp"
#include "sql/statement_info.hpp"

namespace pgopt::sql {

bool may_have_session_effects(std::string_view sql) { return analyze(sql).may(Mark::SessionEffects); }

bool may_write_tables(std::string_view sql) { return analyze(sql).may(Mark::WritesTables); }

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$' || c == '.';
}

bool iequal_at(std::string_view s, size_t at, std::string_view word) {
  if (s.size() - at < word.size()) return false;
  for (size_t k = 0; k < word.size(); ++k)
    if (lower(s[at + k]) != word[k]) return false;
  return true;
}

size_t skip_blanks(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  return i;
}

// A dotted name starting at `i`, or empty.
std::string_view dotted_name(std::string_view s, size_t i) {
  size_t end = i;
  while (end < s.size() && name_char(s[end])) ++end;
  std::string_view n = s.substr(i, end - i);
  return n.find('.') == std::string_view::npos ? std::string_view{} : n;
}

}  // namespace

std::vector<std::string> custom_setting_names(std::string_view sql) {
  std::vector<std::string> out;
  auto add = [&](std::string_view n) {
    if (!n.empty() && n.size() <= 127 && std::find(out.begin(), out.end(), n) == out.end()) out.emplace_back(n);
  };
  const size_t n = std::min(sql.size(), detail::kMaxAnalyzedLength);
  for (size_t i = 0; i < n; ++i) {
    const bool word_start = i == 0 || !name_char(sql[i - 1]);
    if (!word_start) continue;
    if (iequal_at(sql, i, "set_config")) {
      size_t j = skip_blanks(sql, i + 10);
      if (j >= n || sql[j] != '(') continue;
      j = skip_blanks(sql, j + 1);
      while (j < n && sql[j] == '\'') ++j;  // 'x.y', or ''x.y'' inside a quoted body
      add(dotted_name(sql, j));
    } else if (iequal_at(sql, i, "set") && i + 3 < n && !name_char(sql[i + 3])) {
      size_t j = skip_blanks(sql, i + 3);
      if (iequal_at(sql, j, "session") && j + 7 < n && !name_char(sql[j + 7])) j = skip_blanks(sql, j + 7);
      add(dotted_name(sql, j));
    }
  }
  return out;
}

}  // namespace pgopt::sql
