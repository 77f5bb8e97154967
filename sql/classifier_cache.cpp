// ClassifierCache: a bounded LRU in front of classify(), keyed by the statement's text with its
// literals masked where they cannot change the answer.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <utility>

#include "sql/classify.hpp"
#include "sql/lex.hpp"

namespace pgopt::sql {

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
constexpr WordBytes kWord;

bool ident_char(unsigned char c) { return kWord.word[c]; }

bool word_is(std::string_view word, std::string_view lower) {
  if (word.size() != lower.size()) return false;
  for (size_t i = 0; i < word.size(); ++i)
    if (char(std::tolower(static_cast<unsigned char>(word[i]))) != lower[i]) return false;
  return true;
}

}  // namespace

namespace {
bool compute_literal_free_key(std::string_view sql, std::string& out);
}  // namespace

// The router and the workload capture key the same statement text one after the other, on the same
// thread: the last text and its key are kept, and a repeat costs a compare instead of a scan.
bool literal_free_key(std::string_view sql, std::string& out) {
  constexpr size_t kMemoMax = 4096;
  struct Memo {
    std::string text, key;
    bool ok = false, valid = false;
  };
  thread_local Memo memo;
  if (memo.valid && sql.size() == memo.text.size() && std::memcmp(sql.data(), memo.text.data(), sql.size()) == 0) {
    out.assign(memo.key);
    return memo.ok;
  }
  const bool ok = compute_literal_free_key(sql, out);
  if (sql.size() <= kMemoMax) {
    memo.text.assign(sql);
    memo.key.assign(out);
    memo.ok = ok;
    memo.valid = true;
  }
  return ok;
}

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

bool compute_literal_free_key(std::string_view sql, std::string& out) {
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

TextKey text_key(std::string_view sql, std::string& scratch, size_t max_length) {
  if (sql.size() > max_length) return {sql, false};
  if (literal_free_key(sql, scratch)) return {scratch, true};
  return {sql, sql.empty() || sql[0] != '\x01'};
}

ClassifierCache::ClassifierCache(ClassifierOptions options, size_t capacity)
    : options_(std::move(options)), memo_(capacity) {}

const Classification& ClassifierCache::classify(std::string_view sql) {
  const TextKey k = text_key(sql, key_, kMaxCachedLength);
  if (!k.keep) {
    memo_.note_uncached();
  } else if (Classification* kept = memo_.find(k.key)) {
    return *kept;
  }
  Classification result = sql::classify(sql, options_);
  if (!k.keep) {
    uncached_ = std::move(result);
    return uncached_;
  }
  return memo_.insert(k.key, std::move(result));
}

}  // namespace pgopt::sql
