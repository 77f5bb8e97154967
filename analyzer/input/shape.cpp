// Lexical shape of a statement (see shape.hpp): a single hand-written pass, no regex, no allocation
// once `out` has grown to the longest statement seen.
#include "analyzer/input/shape.hpp"

#include <cstring>

#include "sql/lex.hpp"

namespace pgopt::analyzer::input {
namespace {

inline bool ident_start(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}
inline bool ident_char(unsigned char c) { return ident_start(c) || (c >= '0' && c <= '9') || c == '$'; }
inline bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
inline bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool word_is(std::string_view w, const char* s) { return w.size() == std::strlen(s) && w == s; }

// Statements whose constants are all A_Const nodes in the parse tree (ignored by the fingerprint).
bool is_dml_keyword(std::string_view w) {
  switch (w.size()) {
    case 4: return w == "with";
    case 5: return w == "table" || w == "merge";
    case 6: return w == "select" || w == "insert" || w == "update" || w == "delete" || w == "values";
    default: return false;
  }
}

// A number inside these parentheses changes the type or typmod field, not an A_Const:
// float(10) is float4 but float(30) is float8; current_timestamp(3) keeps 3 in the node.
bool is_guard_word(std::string_view w) {
  return word_is(w, "float") || word_is(w, "current_time") || word_is(w, "current_timestamp") ||
         word_is(w, "localtime") || word_is(w, "localtimestamp");
}

// Past a numeric constant at `i` (digits, a fraction unless `..` follows, an exponent).
size_t number_end(std::string_view sql, size_t i) {
  const size_t n = sql.size();
  size_t j = sql::lex::digits_end(sql, i);
  if (j < n && sql[j] == '.' && !(j + 1 < n && sql[j + 1] == '.')) j = sql::lex::digits_end(sql, j + 1);
  if (j < n && (sql[j] == 'e' || sql[j] == 'E')) {
    size_t k = j + 1;
    if (k < n && (sql[k] == '+' || sql[k] == '-')) ++k;
    if (k < n && is_digit(static_cast<unsigned char>(sql[k]))) j = sql::lex::digits_end(sql, k);
  }
  return j;
}

// A `$` at `i`: a parameter `$n` (kind 'p'), a dollar-quoted string `$tag$...$tag$` (kind 's'), or
// a lone `$` (kind '$'); returns the kind and sets `end` past it (kUnclosed: an unclosed string).
char dollar_token(std::string_view sql, size_t i, size_t& end) {
  const size_t n = sql.size();
  size_t j = i + 1;
  if (j < n && is_digit(static_cast<unsigned char>(sql[j]))) {
    end = sql::lex::digits_end(sql, j);
    return 'p';
  }
  while (j < n && ident_char(static_cast<unsigned char>(sql[j])) && sql[j] != '$') ++j;
  if (j < n && sql[j] == '$') {
    std::string_view tag = sql.substr(i, j + 1 - i);
    end = sql.find(tag, j + 1);
    if (end != std::string_view::npos) end += tag.size();
    return 's';
  }
  end = i + 1;
  return '$';
}

}  // namespace

bool statement_shape(std::string_view sql, std::string& out) {
  out.clear();
  const size_t n = sql.size();
  const char* s = sql.data();
  bool at_start = true;   // the next word is a statement's first keyword
  bool dml = false;
  bool space = false;
  int guard = 0;          // 2: just emitted a guard word; 1: just emitted "(" after one
  size_t i = 0;
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (is_space(c)) {
      space = true;
      ++i;
      continue;
    }
    if (c == '-' && i + 1 < n && s[i + 1] == '-') {
      const void* nl = std::memchr(s + i, '\n', n - i);
      i = nl ? size_t(static_cast<const char*>(nl) - s) + 1 : n;
      space = true;
      continue;
    }
    if (c == '/' && i + 1 < n && s[i + 1] == '*') {
      i = sql::lex::block_comment_end(sql, i);
      if (i == sql::lex::kUnclosed) return false;
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;

    size_t j = i + 1;  // past the token at i
    if (c == '\'') {
      const bool backslash = i > 0 && (s[i - 1] == 'e' || s[i - 1] == 'E') && (i < 2 || !ident_char(s[i - 2]));
      if ((j = sql::lex::quoted_end(sql, i, '\'', backslash)) == sql::lex::kUnclosed) return false;
      if (dml) out += '?';
      else out.append(s + i, j - i);
    } else if (c == '"') {
      if ((j = sql::lex::quoted_end(sql, i, '"')) == sql::lex::kUnclosed) return false;
      out.append(s + i, j - i);
      at_start = false;
    } else if (c == '$') {
      const char kind = dollar_token(sql, i, j);
      if (j == sql::lex::kUnclosed) return false;
      if (kind == 's' && dml) out += '?';
      else out.append(s + i, j - i);
    } else if (is_digit(c) || (c == '.' && i + 1 < n && is_digit(static_cast<unsigned char>(s[i + 1])))) {
      j = number_end(sql, i);
      if (dml && guard != 1) out += '?';
      else out.append(s + i, j - i);
    } else {
      j = 0;  // not a quoted token or a constant
    }
    if (j > 0) {
      i = j;
      guard = 0;
      continue;
    }
    if (ident_start(c)) {
      j = i;
      const size_t start = out.size();
      while (j < n && ident_char(static_cast<unsigned char>(s[j]))) {
        char ch = s[j++];
        out += (ch >= 'A' && ch <= 'Z') ? char(ch + 32) : ch;
      }
      std::string_view word(out.data() + start, out.size() - start);
      if (at_start) {
        dml = is_dml_keyword(word);
        at_start = false;
      }
      guard = is_guard_word(word) ? 2 : 0;
      i = j;
      continue;
    }
    if (c == ';') {
      at_start = true;  // "SELECT 1; CREATE INDEX ... WITH (fillfactor = 70)": re-decide per statement
      dml = false;
    }
    guard = (c == '(' && guard == 2) ? 1 : 0;
    out += char(c);
    ++i;
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) out.pop_back();
  return true;
}

}  // namespace pgopt::analyzer::input
