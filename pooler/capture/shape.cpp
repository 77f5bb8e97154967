// Statement splitting and the per-worker cache of fingerprints and normalized texts.
#include "pooler/capture/shape.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>

#include "sql/classify.hpp"
#include "sql/parser.hpp"
#include "sql/statement_info.hpp"

namespace pgopt::pooler::capture {

namespace {

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || uint8_t(c) >= 0x80; }
bool blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// At `i` a '$': the length of a dollar-quote delimiter ($$ or $tag$) starting there, else 0.
size_t dollar_tag(std::string_view s, size_t i) {
  size_t j = i + 1;
  if (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) return 0;  // $1 is a parameter
  while (j < s.size() && ident_char(s[j]) && s[j] != '$') ++j;
  return j < s.size() && s[j] == '$' ? j - i + 1 : 0;
}

}  // namespace

std::vector<Piece> split_statements(std::string_view s) {
  std::vector<Piece> out;
  size_t start = 0, first = std::string_view::npos, last = 0;  // first/last real (non-comment) char
  auto flush = [&](size_t end) {
    if (first != std::string_view::npos) out.push_back({first, last - first});
    start = end + 1;
    first = std::string_view::npos;
  };
  auto mark = [&](size_t from, size_t to) {  // [from, to) is real SQL
    if (first == std::string_view::npos) first = from;
    last = to;
  };
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == ';') {
      flush(i);
      ++i;
    } else if (blank(c)) {
      ++i;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      int depth = 1;
      i += 2;
      while (i < s.size() && depth > 0) {
        if (s[i] == '/' && i + 1 < s.size() && s[i + 1] == '*') depth++, i += 2;
        else if (s[i] == '*' && i + 1 < s.size() && s[i + 1] == '/') depth--, i += 2;
        else ++i;
      }
    } else if (c == '\'' || c == '"') {
      // E'...' takes backslash escapes; the E is the character just before, not part of a word.
      const bool escapes = c == '\'' && i > 0 && (s[i - 1] == 'e' || s[i - 1] == 'E') &&
                           (i < 2 || !ident_char(s[i - 2]));
      size_t j = i + 1;
      while (j < s.size()) {
        if (escapes && s[j] == '\\') {
          j += 2;
        } else if (s[j] == c) {
          if (j + 1 < s.size() && s[j + 1] == c) j += 2;  // doubled quote
          else break;
        } else {
          ++j;
        }
      }
      j = std::min(j + 1, s.size());
      mark(i, j);
      i = j;
    } else if (c == '$' && (i == 0 || !ident_char(s[i - 1]))) {
      size_t n = dollar_tag(s, i);
      if (n == 0) {
        mark(i, i + 1);
        ++i;
        continue;
      }
      size_t close = s.find(s.substr(i, n), i + n);
      size_t j = close == std::string_view::npos ? s.size() : close + n;
      mark(i, j);
      i = j;
    } else {
      size_t j = i + 1;
      if (ident_char(c)) while (j < s.size() && (ident_char(s[j]) || s[j] == '$')) ++j;
      mark(i, j);
      i = j;
    }
  }
  flush(s.size());
  return out;
}

ShapePtr ShapeCache::make_shape(std::string_view sql) {
  auto fp = sql::fingerprint(sql);
  if (!fp.value) return nullptr;
  auto norm = sql::normalize(sql);
  auto shape = std::make_shared<Shape>();
  shape->fingerprint = *fp.value;
  shape->normalized = norm.text ? std::move(*norm.text) : std::string(sql);
  shape->has_literals = shape->normalized != sql;
  return shape;
}

ShapePtr truncated_shape(std::string_view sql) {
  // Grouped by their first bytes (a bulk INSERT's table and columns); the text says what happened.
  std::string_view prefix = sql.substr(0, ShapeCache::kTruncatedPrefix);
  while (!prefix.empty() && (static_cast<unsigned char>(prefix.back()) & 0xC0) == 0x80) prefix.remove_suffix(1);
  auto shape = std::make_shared<Shape>();
  shape->normalized = std::string(prefix) + "... /* " + std::to_string(sql.size() / 1024) +
                      " kB statement, over the 64 kB capture limit: not analysed */";
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : shape->normalized) h = (h ^ c) * 1099511628211ULL;
  shape->fingerprint = h;
  return shape;
}

std::vector<ShapePtr> ShapeCache::compute(std::string_view sql, bool whole) {
  ++misses_;
  std::vector<ShapePtr> out;
  if (sql.size() > kMaxShapedLength) {
    out.push_back(truncated_shape(sql));
    return out;
  }
  if (!whole) {
    if (auto s = make_shape(sql)) out.push_back(std::move(s));
    return out;
  }
  auto pieces = split_statements(sql);
  if (pieces.size() == 1) {
    if (auto s = make_shape(sql.substr(pieces[0].offset, pieces[0].size))) out.push_back(std::move(s));
    return out;
  }
  for (const auto& p : pieces) {
    auto s = make_shape(sql.substr(p.offset, p.size));
    if (!s) {
      // The split and the parser disagree: one entry for the whole string (when it parses at all).
      out.clear();
      if (auto w = make_shape(sql)) out.push_back(std::move(w));
      return out;
    }
    out.push_back(std::move(s));
  }
  return out;
}

const std::vector<ShapePtr>& ShapeCache::lookup(std::string_view sql, bool whole) {
  if (sql.size() > kMaxCachedLength) {
    uncached_ = compute(sql, whole);
    return uncached_;
  }
  const sql::StatementInfo& info = sql::analyze(sql);  // the relay's one analysis of this text
  if (info.keyed())
    key_.assign(info.key());
  else
    key_.assign(sql);
  key_ += whole ? '\x02' : '\x03';  // a whole Query string and a single statement are cached apart
  if (auto it = map_.find(key_); it != map_.end()) return it->second;
  if (map_.size() >= capacity_) map_.clear();
  return map_.emplace(key_, compute(sql, whole)).first->second;
}

const std::vector<ShapePtr>& ShapeCache::query(std::string_view sql) { return lookup(sql, true); }

ShapePtr ShapeCache::statement(std::string_view sql) {
  const auto& v = lookup(sql, false);
  return v.empty() ? nullptr : v.front();
}

}  // namespace pgopt::pooler::capture
