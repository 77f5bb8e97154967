// The lexical gates as they were before sql::analyze() (main at de3da2d), kept verbatim for the
// differential test (statement_info_diff_test.cpp): the new one-pass scan must never say "no" where
// these said "yes", and must build the same literal-free keys.
#include "tests/unit/sql/prefilter_reference.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <utility>

#include "sql/builtin_functions.hpp"
#include "sql/deep_stack.hpp"
#include "sql/lex.hpp"

namespace pgopt::sql::reference {
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
    return !is(prev_word, "pg_catalog") || !pgopt::sql::detail::builtin_volatility(w);
  }
  if (is_paren_keyword(w) || is(prev_word, "into")) return false;
  return !pgopt::sql::detail::builtin_volatility(w);
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
  if (sql.size() > pgopt::sql::detail::kMaxAnalyzedLength) return true;  // session_effects() says unknown
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

}  // namespace pgopt::sql::reference

namespace pgopt::sql::reference {

bool may_write_tables(std::string_view sql) {
  if (sql.size() > pgopt::sql::detail::kMaxAnalyzedLength) return true;  // not scanned: a worker's time is shared
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

}  // namespace pgopt::sql::reference


namespace pgopt::sql::reference {
namespace lex = pgopt::sql::lex;

namespace {

// Per byte: 1 = part of a word (letters, digits, _, $, non-ASCII), 2 = starts something the key
// scanner must look at (quotes, comment starts, $, digits, dot), 0 = copied as it is.
struct ByteClasses {
  unsigned char cls[256] = {};
  constexpr ByteClasses() {
    for (int c = 0; c < 256; ++c) {
      const bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                        c == '$' || c >= 0x80;
      cls[c] = word ? 1 : 0;
    }
    for (unsigned char c : {'\'', '"', '-', '/', '$', '.', '\x01'}) cls[c] = 2;
    for (int c = '0'; c <= '9'; ++c) cls[c] = 2;
  }
};
constexpr ByteClasses kBytes;

struct WordBytes {
  bool word[256] = {};
  constexpr WordBytes() {
    for (int c = 0; c < 256; ++c)
      word[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$' ||
                c >= 0x80;
  }
};
constexpr WordBytes kWordTable;

bool ident_char(unsigned char c) { return kWordTable.word[c]; }

bool word_is(std::string_view word, std::string_view lower) {
  if (word.size() != lower.size()) return false;
  for (size_t i = 0; i < word.size(); ++i)
    if (char(std::tolower(static_cast<unsigned char>(word[i]))) != lower[i]) return false;
  return true;
}

}  // namespace


// The router and the workload capture key the same statement text one after the other, on the same
// thread: the last text and its key are kept, and a repeat costs a compare instead of a scan.

namespace {

using lex::block_comment_end;
using lex::digits_end;
using lex::kUnclosed;
using lex::quoted_end;

// Past a numeric constant starting at `i` (digits, a fraction, an exponent); kUnclosed when an
// identifier character or a dot follows (123abc, 1.2.3), which is not worth keying.
size_t number_end(std::string_view sql, size_t i) {
  const size_t n = sql.size();
  size_t j = digits_end(sql, i);
  if (j < n && sql[j] == '.') j = digits_end(sql, j + 1);
  if (j < n && (sql[j] == 'e' || sql[j] == 'E')) {
    size_t k = j + 1;
    if (k < n && (sql[k] == '+' || sql[k] == '-')) ++k;
    if (k < n && std::isdigit(static_cast<unsigned char>(sql[k]))) j = digits_end(sql, k);
  }
  if (j < n && (ident_char(static_cast<unsigned char>(sql[j])) || sql[j] == '.')) return kUnclosed;
  return j;
}

bool compute_literal_free_key_impl(std::string_view sql, std::string& out) {
  out.clear();
  out.reserve(sql.size() + 1);
  out += '\x01';
  const size_t n = sql.size();
  size_t i = 0;
  while (i < n) {
    // Runs of punctuation and blanks go over in one piece.
    size_t run = i;
    while (run < n && kBytes.cls[static_cast<unsigned char>(sql[run])] == 0) ++run;
    if (run > i) {
      out.append(sql.substr(i, run - i));
      i = run;
      if (i >= n) break;
    }
    const unsigned char c = static_cast<unsigned char>(sql[i]);
    size_t j = i + 1;  // past the token at i
    if (c == '\x01') return false;
    if (c == '\'') {
      if (i > 0 && (ident_char(static_cast<unsigned char>(sql[i - 1])) || sql[i - 1] == '&'))
        return false;  // E'', B'', X'', U&'': escapes and bit strings, rare enough to key exactly
      if ((j = quoted_end(sql, i, '\'')) == kUnclosed) return false;
      out += '?';
    } else if (c == '"') {  // a quoted identifier: kept as written
      if ((j = quoted_end(sql, i, '"')) == kUnclosed) return false;
      out.append(sql.substr(i, j - i));
    } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      j = std::min(sql.find('\n', i), n);
      out.append(sql.substr(i, j - i));
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      if ((j = block_comment_end(sql, i)) == kUnclosed) return false;
      out.append(sql.substr(i, j - i));
    } else if (c == '$') {
      // A parameter ($1) is kept; a dollar-quoted string is not worth scanning here.
      if (i + 1 >= n || !std::isdigit(static_cast<unsigned char>(sql[i + 1]))) return false;
      j = digits_end(sql, i + 1);
      out.append(sql.substr(i, j - i));
    } else if (std::isdigit(c) || (c == '.' && i + 1 < n && std::isdigit(static_cast<unsigned char>(sql[i + 1])))) {
      if ((j = number_end(sql, i)) == kUnclosed) return false;
      out += '?';
    } else if (ident_char(c)) {
      j = i;
      while (j < n && ident_char(static_cast<unsigned char>(sql[j]))) ++j;
      const std::string_view word = sql.substr(i, j - i);
      const size_t len = word.size();
      if ((len == 7 && word_is(word, "explain")) || (len == 10 && word_is(word, "set_config")) ||
          (len == 21 && word_is(word, "transaction_read_only")))
        return false;
      out.append(word);
    } else {
      out += char(c);
    }
    i = j;
  }
  return true;
}

}  // namespace


bool literal_free_key(std::string_view sql, std::string& out) { return compute_literal_free_key_impl(sql, out); }

namespace {
char lower_c(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }
bool word_at(std::string_view s, size_t i, std::string_view w) {
  if (i + w.size() > s.size()) return false;
  for (size_t k = 0; k < w.size(); ++k)
    if (lower_c(s[i + k]) != w[k]) return false;
  return true;
}
bool contains(std::string_view sql, std::string_view w) {
  for (size_t i = 0; i < sql.size(); ++i)
    if (word_at(sql, i, w)) return true;
  return false;
}
}  // namespace

bool may_have_cursor_commands(std::string_view sql) {
  return contains(sql, "hold") || contains(sql, "close") || contains(sql, "discard");
}
bool may_be_prepared_command(std::string_view sql) {
  return contains(sql, "prepare") || contains(sql, "execute") || contains(sql, "deallocate");
}
bool mentions_statement_view(std::string_view sql) { return contains(sql, "pg_prepared_statements"); }
bool mentions_pg_settings(std::string_view sql) { return contains(sql, "pg_settings"); }
bool calls_sequence_function(std::string_view sql) { return contains(sql, "nextval") || contains(sql, "setval"); }

}  // namespace pgopt::sql::reference
