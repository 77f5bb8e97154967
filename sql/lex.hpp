// Lexical primitives shared by the hand-written scanners that must not parse (the relay's
// literal-free keys, the analyzer's statement shapes): where a quoted token or a comment ends.
#pragma once

#include <cstddef>
#include <string_view>

namespace pgopt::sql::lex {

inline constexpr size_t kUnclosed = std::string_view::npos;

// Past the closing `quote` of a literal or quoted identifier opened at `i` (a doubled quote is one
// character of it; with `backslash`, an E'' string, a backslash escapes the next byte); kUnclosed
// when the text ends first.
inline size_t quoted_end(std::string_view sql, size_t i, char quote, bool backslash = false) {
  for (size_t j = i + 1; j < sql.size(); ++j) {
    if (backslash && sql[j] == '\\') {
      ++j;
      continue;
    }
    if (sql[j] != quote) continue;
    if (j + 1 < sql.size() && sql[j + 1] == quote) {
      ++j;
      continue;
    }
    return j + 1;
  }
  return kUnclosed;
}

// Past the end of a block comment opened at `i` (PostgreSQL's nest); kUnclosed when the text ends
// first.
inline size_t block_comment_end(std::string_view sql, size_t i) {
  const size_t n = sql.size();
  int depth = 0;
  size_t j = i;
  while (j < n) {
    if (sql[j] == '/' && j + 1 < n && sql[j + 1] == '*') {
      ++depth;
      j += 2;
    } else if (sql[j] == '*' && j + 1 < n && sql[j + 1] == '/') {
      j += 2;
      if (--depth == 0) return j;
    } else {
      ++j;
    }
  }
  return kUnclosed;
}

inline size_t digits_end(std::string_view sql, size_t j) {
  while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9') ++j;
  return j;
}

}  // namespace pgopt::sql::lex
