// What the result cache asks of a statement on every request, remembered per worker thread:
// cacheability() and written_tables() each parse the text, which would cost a cache-enabled pool a
// full parse per statement (more than a hit saves). Kept by literal_free_key() (text_memo.hpp), so
// a repeated statement costs one scan and a hash lookup.
#pragma once

#include <string>
#include <string_view>

#include "sql/cache_writes.hpp"
#include "sql/cacheability.hpp"
#include "sql/classify.hpp"
#include "sql/text_memo.hpp"

namespace pgopt::sql {

class CacheFactsMemo {
 public:
  explicit CacheFactsMemo(size_t capacity = 4096) : cacheable_(capacity), writes_(capacity) {}

  // cacheability(sql, options). The options must be the same on every call of one memo (they are
  // the process's `[cache] stable_functions`, fixed at start). Literals cannot change the answer:
  // the hint is a comment (kept in the key), tables are names, and a volatile call is one whatever
  // its arguments.
  const Cacheability& cacheability(std::string_view sql, const CacheabilityOptions& options);

  // written_tables(sql, options); `options_key` names the options (options_key()), which differ
  // per database. A text calling nextval() or setval() is never kept: the sequence it writes is a
  // literal, which the key masks.
  const WrittenTables& written_tables(std::string_view sql, const ClassifierOptions& options,
                                      std::string_view options_key);

  size_t hits() const { return cacheable_.hits() + writes_.hits(); }
  size_t misses() const { return cacheable_.misses() + writes_.misses(); }

  static constexpr size_t kMaxCachedLength = 16 * 1024;

 private:
  TextMemo<Cacheability> cacheable_;
  TextMemo<WrittenTables> writes_;
  std::string key_, prefixed_;
  Cacheability uncached_cacheability_;
  WrittenTables uncached_writes_;
};

// A string that tells ClassifierOptions apart (their lists and flag), for written_tables()' key.
std::string options_key(const ClassifierOptions& options);

}  // namespace pgopt::sql
