// The result cache's per-worker memo of cacheability() and written_tables() (cache_facts.hpp).
#include "sql/cache_facts.hpp"

#include "sql/statement_info.hpp"

namespace pgopt::sql {

const Cacheability& CacheFactsMemo::cacheability(std::string_view sql, const CacheabilityOptions& options) {
  const TextKey k = text_key(sql, key_, kMaxCachedLength);
  if (!k.keep) {
    cacheable_.note_uncached();
    return uncached_cacheability_ = sql::cacheability(sql, options);
  }
  if (Cacheability* kept = cacheable_.find(k.key)) return *kept;
  return cacheable_.insert(k.key, sql::cacheability(sql, options));
}

const WrittenTables& CacheFactsMemo::written_tables(std::string_view sql, const ClassifierOptions& options,
                                                    std::string_view options_key) {
  TextKey k = text_key(sql, key_, kMaxCachedLength);
  if (!k.keep || analyze(sql).may(Mark::SequenceCall)) {  // nextval( or setval(: the sequence is a literal
    writes_.note_uncached();
    return uncached_writes_ = sql::written_tables(sql, options);
  }
  prefixed_.assign(options_key);
  prefixed_ += '\0';
  prefixed_.append(k.key);
  if (WrittenTables* kept = writes_.find(prefixed_)) return *kept;
  return writes_.insert(prefixed_, sql::written_tables(sql, options));
}

std::string options_key(const ClassifierOptions& options) {
  std::string out(options.unknown_functions_are_reads ? "r" : "w");
  for (const auto* list : {&options.write_functions, &options.read_only_functions}) {
    out += '\x1f';
    for (const std::string& f : *list) {
      out += f;
      out += '\x1e';
    }
  }
  return out;
}

}  // namespace pgopt::sql
