// Lexical primitives shared by the hand-written scanners that must not parse (the relay's
// literal-free keys and hints, the cache's hints, the analyzer's statement shapes): where a quoted
// token or a comment ends, and the comments before a statement's first token.
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

// One block comment before a statement's first token. `nested` comments (/* a /* b */ c */) are
// never hints: what a reader sees as the hint would not be what the scanner sees.
struct LeadingComment {
  size_t begin = 0;  // at its "/*"
  size_t end = 0;    // past its "*/"
  std::string_view content;
  bool nested = false;
};

// Walks the whitespace, -- comments and block comments before the first token of `sql`, calling
// `on_comment(const LeadingComment&)` for each block comment. Returns the first token's offset
// (sql.size() when there is none), or kUnclosed at an unclosed block comment, which ends the walk
// (the server reports it).
template <class OnComment>
size_t leading_comments(std::string_view sql, OnComment&& on_comment) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  size_t i = 0;
  while (i < sql.size()) {
    if (is_space(sql[i])) {
      ++i;
    } else if (sql.substr(i, 2) == "--") {
      const size_t nl = sql.find('\n', i);
      i = nl == std::string_view::npos ? sql.size() : nl + 1;
    } else if (sql.substr(i, 2) == "/*") {
      const size_t end = block_comment_end(sql, i);
      if (end == kUnclosed) return kUnclosed;
      const std::string_view content = sql.substr(i + 2, end - i - 4);
      on_comment(LeadingComment{i, end, content, content.find("/*") != std::string_view::npos});
      i = end;
    } else {
      break;
    }
  }
  return i;
}

inline size_t digits_end(std::string_view sql, size_t j) {
  while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9') ++j;
  return j;
}

}  // namespace pgopt::sql::lex
