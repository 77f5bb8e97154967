// ClassifierCache: a bounded LRU in front of classify(), keyed by the statement's text with its
// literals masked where they cannot change the answer.
#include <utility>

#include "sql/classify.hpp"
#include "sql/statement_info.hpp"

namespace pgopt::sql {

// The key comes from the one scan per statement (statement_info.hpp), kept per thread, so the
// router, capture and the result cache keying the same text one after the other scan it once.
bool literal_free_key(std::string_view sql, std::string& out) {
  const StatementInfo& info = analyze(sql);
  if (!info.keyed()) return false;
  out.assign(info.key());
  return true;
}

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
