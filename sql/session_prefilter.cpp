// may_have_session_effects: the pooler's per-query lexical gate in front of session_effects().
//
// Contract: never false for text that session_effects() would report effects for. Cost: one pass,
// no allocation. It looks at words (runs of [A-Za-z0-9_] and non-ASCII bytes), not at strings or
// quoted identifiers, so a trigger word inside a literal or "identifier" only costs a spurious true.
//
// Trigger words: set, reset, listen, load, discard, prepare, hold, call, execute, function,
// procedure, trigger, rule (whole words), do as the first word of a statement, and anything
// containing advisory, set_config or temp (temp, temporary, pg_temp_3 ...). Plus U&"..." identifiers,
// whose escapes could spell any name.
//
// Function calls: a word followed by `(` (blanks and comments may stand between) is a call unless
// it is a keyword that takes parentheses (IN, VALUES, EXISTS, CAST, COALESCE ...) or the table of an
// INSERT INTO. A call of a name that is not a pg_catalog built-in, a qualified call outside
// pg_catalog, a call of a quoted name, and a name glued to `$` or `.` all say true: their bodies may
// change anything (SessionEffects::unknown_reasons).
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

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "sql/builtin_functions.hpp"
#include "sql/deep_stack.hpp"

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

// Index of the first byte at or after `i` that is not a blank or inside a comment (n if none).
size_t next_significant(std::string_view sql, size_t i) {
  const size_t n = sql.size();
  while (i < n) {
    const char c = sql[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
      ++i;
    } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      while (i < n && sql[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      size_t depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] == '/' && i + 1 < n && sql[i + 1] == '*') {
          ++depth;
          i += 2;
        } else if (sql[i] == '*' && i + 1 < n && sql[i + 1] == '/') {
          --depth;
          i += 2;
        } else {
          ++i;
        }
      }
    } else {
      break;
    }
  }
  return i;
}

// Keywords the grammar follows with a parenthesis that are not function calls (COALESCE, NULLIF,
// GREATEST, LEAST, EXTRACT ... are grammar, not pg_proc entries). Sorted for binary search.
constexpr std::array<std::string_view, 73> kParenKeywords = {
    "all", "and", "any", "array", "as", "between", "by", "case",
    "cast", "check", "coalesce", "conflict", "cube", "current", "default", "distinct",
    "else", "escape", "except", "exists", "extract", "filter", "for", "from",
    "greatest", "group", "grouping", "having", "if", "in", "intersect", "into",
    "is", "join", "key", "lateral", "least", "like", "limit", "localtime",
    "localtimestamp", "not", "nullif", "offset", "on", "only", "or", "over",
    "overlay", "partition", "position", "primary", "references", "returning", "rollup", "row",
    "select", "sets", "some", "substring", "table", "then", "to", "trim",
    "union", "unique", "using", "values", "when", "where", "window", "with",
    "within"};

static_assert(std::is_sorted(kParenKeywords.begin(), kParenKeywords.end()));

bool is_paren_keyword(std::string_view lower_word) {
  return std::binary_search(kParenKeywords.begin(), kParenKeywords.end(), lower_word);
}

// Whether `word(` may call something other than a pg_catalog built-in.
// `prev_word` is the word before `word`, `qualifier_of` the one before that (for `a.b(`, a's
// predecessor), `before` the byte just before `word`.
bool unknown_call(std::string_view word, std::string_view prev_word, std::string_view qualifier_of, char before) {
  std::array<char, 64> buf;
  if (word.size() > buf.size()) return true;  // no built-in has so long a name
  for (size_t k = 0; k < word.size(); ++k) buf[k] = lower(word[k]);
  std::string_view w(buf.data(), word.size());
  if (before == '$') return true;  // the tail of a name with a `$` in it
  if (before == '.') {
    if (is(qualifier_of, "into")) return false;  // INSERT INTO schema.table (columns)
    return !is(prev_word, "pg_catalog") || !detail::builtin_volatility(w);
  }
  if (is_paren_keyword(w) || is(prev_word, "into")) return false;
  return !detail::builtin_volatility(w);
}

// A keyword that names something with session effects or runs code the pooler cannot see (SET
// outside an UPDATE's SET list, DISCARD, LISTEN, PREPARE, DO as a statement's first word, ...).
bool session_keyword(std::string_view word, bool starts_statement, bool saw_update) {
  switch (lower(word[0])) {
    case 'c':
      return is(word, "call");
    case 'd':
      return is(word, "discard") || (starts_statement && is(word, "do"));
    case 'e':
      return is(word, "execute");
    case 'f':
      return is(word, "function");
    case 's':
      return is(word, "set") && !saw_update;
    case 'l':
      return is(word, "listen") || is(word, "load");
    case 'p':
      return is(word, "prepare") || is(word, "procedure");
    case 'h':
      return is(word, "hold");
    case 't':
      return is(word, "trigger");
    case 'r':
      return is(word, "reset") || is(word, "rule");
    default:
      return false;
  }
}

}  // namespace

bool may_have_session_effects(std::string_view sql) {
  if (sql.size() > detail::kMaxAnalyzedLength) return true;  // session_effects() says unknown
  const size_t n = sql.size();
  size_t block_depth = 0;
  bool line_comment = false;
  bool saw_update = false;  // an uncommented `update` since the last ';'
  bool first_word = true;   // the next word starts a statement (DO is only a statement's first word)
  std::string_view prev_word, prev_prev_word;
  size_t i = 0;
  while (i < n) {
    const char c = sql[i];
    const unsigned char cls = class_of(c);
    if (cls == kOther) {
      // A quoted name called as a function.
      if (c == '"') {
        size_t close = sql.find('"', i + 1);
        if (close == std::string_view::npos) return true;
        size_t after = next_significant(sql, close + 1);
        if (after < n && sql[after] == '(') return true;
        i = close + 1;
        continue;
      }
      ++i;
      continue;
    }
    if (cls == kWord) {
      size_t end = i + 1;
      while (end < n && class_of(sql[end]) == kWord) ++end;
      std::string_view word = sql.substr(i, end - i);
      // Words inside comments do not start the statement (the tracker may see too much as
      // commented: then a later word is taken for the first, which only costs a parse).
      const bool starts_statement = first_word;
      if (block_depth == 0 && !line_comment) first_word = false;
      if (const size_t after = next_significant(sql, end); after < n && sql[after] == '(') {
        if (unknown_call(word, prev_word, prev_prev_word, i > 0 ? sql[i - 1] : '\0')) return true;
      }
      if (session_keyword(word, starts_statement, saw_update)) return true;
      if (lower(word[0]) == 'u') {
        if (is(word, "update") && block_depth == 0 && !line_comment) saw_update = true;
        if (word.size() == 1 && end + 1 < n && sql[end] == '&' && sql[end + 1] == '"') return true;  // U&"name"
      }
      if (word.size() >= 4 && contains_trigger(word)) return true;
      prev_prev_word = std::exchange(prev_word, word);
      i = end;
      continue;
    }
    const char next = i + 1 < n ? sql[i + 1] : '\0';
    if (c == ';') {
      saw_update = false;
      first_word = true;
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

namespace pgopt::sql {

bool may_write_tables(std::string_view sql) {
  if (sql.size() > detail::kMaxAnalyzedLength) return true;  // not scanned: a worker's time is shared
  const size_t n = sql.size();
  size_t i = 0;
  while (i < n) {
    if (class_of(sql[i]) != kWord) {
      ++i;
      continue;
    }
    size_t end = i + 1;
    while (end < n && class_of(sql[end]) == kWord) ++end;
    std::string_view w = sql.substr(i, end - i);
    if (is(w, "insert") || is(w, "update") || is(w, "delete") || is(w, "merge") || is(w, "copy") ||
        is(w, "truncate"))
      return true;
    i = end;
  }
  return false;
}

}  // namespace pgopt::sql

namespace pgopt::sql {

namespace {

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
