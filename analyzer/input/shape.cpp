// Lexical shape of a statement (see shape.hpp): a single hand-written pass, no regex, no allocation
// once `out` has grown to the longest statement seen.
#include "analyzer/input/shape.hpp"

#include <cstring>

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
      int depth = 1;  // PostgreSQL block comments nest
      i += 2;
      while (i < n && depth > 0) {
        if (s[i] == '*' && i + 1 < n && s[i + 1] == '/') {
          --depth;
          i += 2;
        } else if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
          ++depth;
          i += 2;
        } else {
          ++i;
        }
      }
      if (depth > 0) return false;
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;

    if (c == '\'') {
      bool backslash = i > 0 && (s[i - 1] == 'e' || s[i - 1] == 'E') && (i < 2 || !ident_char(s[i - 2]));
      size_t j = i + 1;
      for (;;) {
        if (j >= n) return false;
        if (backslash && s[j] == '\\') {
          j += 2;
          continue;
        }
        if (s[j] == '\'') {
          if (j + 1 < n && s[j + 1] == '\'') {
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      if (dml) out += '?';
      else out.append(s + i, j + 1 - i);
      i = j + 1;
      guard = 0;
      continue;
    }
    if (c == '"') {
      size_t j = i + 1;
      for (;;) {
        const void* q = std::memchr(s + j, '"', n - j);
        if (!q) return false;
        j = size_t(static_cast<const char*>(q) - s);
        if (j + 1 < n && s[j + 1] == '"') {
          j += 2;
          continue;
        }
        break;
      }
      out.append(s + i, j + 1 - i);
      i = j + 1;
      guard = 0;
      at_start = false;
      continue;
    }
    if (c == '$') {
      size_t j = i + 1;
      if (j < n && is_digit(static_cast<unsigned char>(s[j]))) {  // parameter $n
        while (j < n && is_digit(static_cast<unsigned char>(s[j]))) ++j;
        out.append(s + i, j - i);
        i = j;
        guard = 0;
        continue;
      }
      while (j < n && ident_char(static_cast<unsigned char>(s[j])) && s[j] != '$') ++j;
      if (j < n && s[j] == '$') {  // $tag$ ... $tag$
        std::string_view tag(s + i, j + 1 - i);
        size_t end = sql.find(tag, j + 1);
        if (end == std::string_view::npos) return false;
        end += tag.size();
        if (dml) out += '?';
        else out.append(s + i, end - i);
        i = end;
        guard = 0;
        continue;
      }
      out += '$';
      ++i;
      guard = 0;
      continue;
    }
    if (is_digit(c) || (c == '.' && i + 1 < n && is_digit(static_cast<unsigned char>(s[i + 1])))) {
      size_t j = i;
      while (j < n && is_digit(static_cast<unsigned char>(s[j]))) ++j;
      if (j < n && s[j] == '.' && !(j + 1 < n && s[j + 1] == '.')) {
        ++j;
        while (j < n && is_digit(static_cast<unsigned char>(s[j]))) ++j;
      }
      if (j < n && (s[j] == 'e' || s[j] == 'E')) {
        size_t k = j + 1;
        if (k < n && (s[k] == '+' || s[k] == '-')) ++k;
        if (k < n && is_digit(static_cast<unsigned char>(s[k]))) {
          while (k < n && is_digit(static_cast<unsigned char>(s[k]))) ++k;
          j = k;
        }
      }
      if (dml && guard != 1) out += '?';
      else out.append(s + i, j - i);
      i = j;
      guard = 0;
      continue;
    }
    if (ident_start(c)) {
      size_t j = i, start = out.size();
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
