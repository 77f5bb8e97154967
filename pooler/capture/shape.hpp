// What a statement is once its literals are set aside (fingerprint, normalized text), cached per worker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pgopt::pooler::capture {

struct Shape {
  uint64_t fingerprint = 0;
  std::string normalized;     // constants as $1, $2, ...: the only text logs and SHOW QUERIES see
  bool has_literals = false;  // normalizing changed the text: a sample of it tells something
};
using ShapePtr = std::shared_ptr<const Shape>;

// What a statement over ShapeCache::kMaxShapedLength is recorded as: its first 256 bytes (cut at a
// character boundary) and a note, with a fingerprint of that text. No parse, no split.
ShapePtr truncated_shape(std::string_view sql);

// One statement of a simple-protocol Query string.
struct Piece {
  size_t offset = 0, size = 0;  // in the string, trimmed, without the `;`
};
// Splits at top-level semicolons the way PostgreSQL's scanner sees them: quotes ('', E'' with
// backslash escapes, ""), dollar quotes, `--` and nested `/* */` comments. Pieces holding only
// blanks and comments are left out (the server runs nothing for them).
std::vector<Piece> split_statements(std::string_view sql);

// Shapes of the statements of a text, by the text with its literals masked (sql::literal_free_key)
// where that applies, else by the exact text: a statement seen before costs a hash lookup, not a
// parse. Not thread-safe: one per worker. Bounded: emptied when it reaches `capacity` entries.
class ShapeCache {
 public:
  explicit ShapeCache(size_t capacity = 10000) : capacity_(capacity) {}

  // The shapes of a whole simple-protocol Query string, one per statement it runs; empty when it
  // runs none or does not parse. A string whose pieces do not all parse (a scanner corner the split
  // missed, e.g. BEGIN ATOMIC bodies) is taken as one statement.
  const std::vector<ShapePtr>& query(std::string_view sql);
  // The shape of one statement (a Parse message's text); null when it does not parse.
  ShapePtr statement(std::string_view sql);

  size_t size() const { return map_.size(); }
  size_t misses() const { return misses_; }

  // Statements longer than this are shaped but not kept.
  static constexpr size_t kMaxCachedLength = 16 * 1024;
  // Statements longer than this are not parsed or split at all (a 50 MB statement must not hold up
  // the worker's other clients): they are recorded under truncated_shape().
  static constexpr size_t kMaxShapedLength = 64 * 1024;
  static constexpr size_t kTruncatedPrefix = 256;

 private:
  static ShapePtr make_shape(std::string_view sql);
  std::vector<ShapePtr> compute(std::string_view sql, bool whole);
  const std::vector<ShapePtr>& lookup(std::string_view sql, bool whole);

  size_t capacity_;
  // Key: the masked or exact text, then a byte telling a whole Query from a single statement.
  std::unordered_map<std::string, std::vector<ShapePtr>> map_;
  std::string key_;  // reused: no allocation per lookup
  std::vector<ShapePtr> uncached_;
  size_t misses_ = 0;
};

}  // namespace pgopt::pooler::capture
