// may_have_session_effects: the pooler's per-query lexical gate in front of session_effects().
//
// Contract: never false for text that session_effects() would report effects for. Cost: one pass,
// no allocation. It looks at words (runs of [A-Za-z0-9_] and non-ASCII bytes), not at strings or
// quoted identifiers, so a trigger word inside a literal or "identifier" only costs a spurious true.
//
// Trigger words: set, reset, listen, load, discard, prepare, hold (whole words) and anything
// containing advisory, set_config or temp (temp, temporary, pg_temp_3 ...). Plus U&"..." identifiers,
// whose escapes could spell any name.
//
// The one refinement: `set` after an `update` in the same ;-separated stretch is UPDATE ... SET
// (also ON CONFLICT DO UPDATE SET, MERGE ... UPDATE SET), which would otherwise send every UPDATE
// through the parser. This is sound because a SET statement is the first token of its statement:
// between the ';' that ends the previous statement and SET there are only blanks and comments, so an
// `update` there must be inside a comment. Comments are tracked conservatively (block depth counts
// every "/*", line mode starts at every "--", neither is reset at ';'), so the tracker may think
// too much is commented (an `update` then simply does not count) but never too little where it
// matters: its block depth is never below the real one in the blank-and-comment prefix of a
// statement.
#include "sql/session_effects.hpp"

#include <array>

namespace pgopt::sql {
namespace {

// Character classes, one table lookup per byte on the hot path.
enum : unsigned char { kOther = 0, kWord = 1, kSpecial = 2 };
constexpr auto kClass = [] {
  std::array<unsigned char, 256> t{};
  for (int c = 0; c < 256; ++c) {
    bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
    t[size_t(c)] = word ? kWord : kOther;
  }
  for (char c : {';', '\n', '\r', '/', '*', '-'}) t[static_cast<unsigned char>(c)] = kSpecial;
  return t;
}();

inline unsigned char class_of(char c) { return kClass[static_cast<unsigned char>(c)]; }

inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

// word equals lower-case literal w, ignoring ASCII case.
template <size_t N>
inline bool is(std::string_view word, const char (&w)[N]) {
  if (word.size() != N - 1) return false;
  for (size_t i = 0; i + 1 < N; ++i) {
    if (lower(word[i]) != w[i]) return false;
  }
  return true;
}

// Does the word contain temp, advisory or set_config anywhere (pg_temp_3, pg_try_advisory_lock ...)?
// One pass over the word, dispatching on the first letter of each candidate.
inline bool contains_trigger(std::string_view word) {
  auto at = [&](size_t i, std::string_view w) {
    if (word.size() - i < w.size()) return false;
    for (size_t k = 1; k < w.size(); ++k) {
      if (lower(word[i + k]) != w[k]) return false;
    }
    return true;
  };
  for (size_t i = 0; i + 4 <= word.size(); ++i) {
    switch (lower(word[i])) {
      case 't':
        if (at(i, "temp")) return true;
        break;
      case 'a':
        if (at(i, "advisory")) return true;
        break;
      case 's':
        if (at(i, "set_config")) return true;
        break;
      default:
        break;
    }
  }
  return false;
}

}  // namespace

bool may_have_session_effects(std::string_view sql) {
  const size_t n = sql.size();
  size_t block_depth = 0;
  bool line_comment = false;
  bool saw_update = false;  // an uncommented `update` since the last ';'
  size_t i = 0;
  while (i < n) {
    const char c = sql[i];
    const unsigned char cls = class_of(c);
    if (cls == kOther) {
      ++i;
      continue;
    }
    if (cls == kWord) {
      size_t end = i + 1;
      while (end < n && class_of(sql[end]) == kWord) ++end;
      std::string_view word = sql.substr(i, end - i);
      switch (lower(word[0])) {
        case 's':
          if (is(word, "set") && !saw_update) return true;
          break;
        case 'r':
          if (is(word, "reset")) return true;
          break;
        case 'l':
          if (is(word, "listen") || is(word, "load")) return true;
          break;
        case 'd':
          if (is(word, "discard")) return true;
          break;
        case 'p':
          if (is(word, "prepare")) return true;
          break;
        case 'h':
          if (is(word, "hold")) return true;
          break;
        case 'u':
          if (is(word, "update") && block_depth == 0 && !line_comment) saw_update = true;
          if (word.size() == 1 && end + 1 < n && sql[end] == '&' && sql[end + 1] == '"') return true;
          break;
        default:
          break;
      }
      if (word.size() >= 4 && contains_trigger(word)) return true;
      i = end;
      continue;
    }
    const char next = i + 1 < n ? sql[i + 1] : '\0';
    if (c == ';') {
      saw_update = false;
      ++i;
    } else if (c == '\n' || c == '\r') {
      line_comment = false;
      ++i;
    } else if (c == '/' && next == '*') {
      ++block_depth;
      i += 2;
    } else if (c == '*' && next == '/') {
      if (block_depth > 0) --block_depth;
      i += 2;
    } else if (c == '-' && next == '-') {
      line_comment = true;
      i += 2;
    } else {
      ++i;
    }
  }
  return false;
}

}  // namespace pgopt::sql
