// ClassifierCache: a bounded LRU in front of classify(), keyed by the statement's text with its
// literals masked where they cannot change the answer.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <utility>

#include "sql/classify.hpp"

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
    if (c == '\x01') return false;
    if (c == '\'') {
      if (i > 0 && (ident_char(static_cast<unsigned char>(sql[i - 1])) || sql[i - 1] == '&'))
        return false;  // E'', B'', X'', U&'': escapes and bit strings, rare enough to key exactly
      size_t j = i + 1;
      for (;;) {
        if (j >= n) return false;
        if (sql[j] == '\'') {
          if (j + 1 < n && sql[j + 1] == '\'') {
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      out += '?';
      i = j + 1;
      continue;
    }
    if (c == '"') {  // a quoted identifier: kept as written
      size_t j = i + 1;
      for (;;) {
        if (j >= n) return false;
        if (sql[j] == '"') {
          if (j + 1 < n && sql[j + 1] == '"') {
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      out.append(sql.substr(i, j + 1 - i));
      i = j + 1;
      continue;
    }
    if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      size_t j = sql.find('\n', i);
      if (j == std::string_view::npos) j = n;
      out.append(sql.substr(i, j - i));
      i = j;
      continue;
    }
    if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      int depth = 0;
      size_t j = i;
      while (j < n) {
        if (sql[j] == '/' && j + 1 < n && sql[j + 1] == '*') {
          ++depth;
          j += 2;
        } else if (sql[j] == '*' && j + 1 < n && sql[j + 1] == '/') {
          j += 2;
          if (--depth == 0) break;
        } else {
          ++j;
        }
      }
      if (depth != 0) return false;
      out.append(sql.substr(i, j - i));
      i = j;
      continue;
    }
    if (c == '$') {
      // A parameter ($1) is kept; a dollar-quoted string is not worth scanning here.
      if (i + 1 < n && std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
        size_t j = i + 1;
        while (j < n && std::isdigit(static_cast<unsigned char>(sql[j]))) ++j;
        out.append(sql.substr(i, j - i));
        i = j;
        continue;
      }
      return false;
    }
    const bool starts_number =
        std::isdigit(c) || (c == '.' && i + 1 < n && std::isdigit(static_cast<unsigned char>(sql[i + 1])));
    if (starts_number) {
      size_t j = i;
      while (j < n && std::isdigit(static_cast<unsigned char>(sql[j]))) ++j;
      if (j < n && sql[j] == '.') {
        ++j;
        while (j < n && std::isdigit(static_cast<unsigned char>(sql[j]))) ++j;
      }
      if (j < n && (sql[j] == 'e' || sql[j] == 'E')) {
        size_t k = j + 1;
        if (k < n && (sql[k] == '+' || sql[k] == '-')) ++k;
        if (k < n && std::isdigit(static_cast<unsigned char>(sql[k]))) {
          while (k < n && std::isdigit(static_cast<unsigned char>(sql[k]))) ++k;
          j = k;
        }
      }
      if (j < n && (ident_char(static_cast<unsigned char>(sql[j])) || sql[j] == '.')) return false;
      out += '?';
      i = j;
      continue;
    }
    if (ident_char(c)) {
      size_t j = i;
      while (j < n && ident_char(static_cast<unsigned char>(sql[j]))) ++j;
      const std::string_view word = sql.substr(i, j - i);
      const size_t len = word.size();
      if ((len == 7 && word_is(word, "explain")) || (len == 10 && word_is(word, "set_config")) ||
          (len == 21 && word_is(word, "transaction_read_only")))
        return false;
      out.append(word);
      i = j;
      continue;
    }
    out += char(c);
    ++i;
  }
  return true;
}

}  // namespace

ClassifierCache::ClassifierCache(ClassifierOptions options, size_t capacity)
    : options_(std::move(options)), capacity_(std::max<size_t>(capacity, 1)) {
  index_.reserve(std::min<size_t>(capacity_, 1 << 16));
}

const Classification& ClassifierCache::classify(std::string_view sql) {
  const bool masked = sql.size() <= kMaxCachedLength && literal_free_key(sql, key_);
  const std::string_view key = masked ? std::string_view(key_) : sql;
  // A text starting with the masked keys' marker could pose as another statement's key.
  const bool keep = sql.size() <= kMaxCachedLength && (masked || sql.empty() || sql[0] != '\x01');
  if (auto it = index_.find(key); it != index_.end()) {
    ++hits_;
    if (it->second != lru_.begin()) lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->result;
  }
  ++misses_;
  Classification result = sql::classify(sql, options_);
  if (!keep) {
    uncached_ = std::move(result);
    return uncached_;
  }
  if (index_.size() >= capacity_) {
    index_.erase(std::string_view(lru_.back().sql));
    lru_.pop_back();
  }
  lru_.push_front(Entry{std::string(key), std::move(result)});
  // The key views the list node's own string, which never moves while the node lives.
  index_.emplace(std::string_view(lru_.front().sql), lru_.begin());
  return lru_.front().result;
}

}  // namespace pgopt::sql
