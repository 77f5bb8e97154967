// libpg_query's fingerprint and normalize behind pgopt's own types.
#include "sql/parser.hpp"

#include <pg_query.h>

#include <cstdio>
#include <string>

#include "sql/parse_tree.hpp"

namespace pgopt::sql {

FingerprintResult fingerprint(std::string_view sql) {
  std::string text(sql);
  PgQueryFingerprintResult r = pg_query_fingerprint(text.c_str());
  FingerprintResult out;
  if (r.error) {
    out.error.message = r.error->message ? r.error->message : "parse error";
    out.error.cursor = r.error->cursorpos;
  } else {
    out.value = r.fingerprint;
  }
  pg_query_free_fingerprint_result(r);
  return out;
}

std::string fingerprint_hex(uint64_t fp) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(fp));
  return buf;
}

NormalizeResult normalize(std::string_view sql) {
  std::string text(sql);
  PgQueryNormalizeResult r = pg_query_normalize(text.c_str());
  NormalizeResult out;
  if (r.error) {
    out.error.message = r.error->message ? r.error->message : "parse error";
    out.error.cursor = r.error->cursorpos;
  } else {
    out.text = r.normalized_query;
  }
  pg_query_free_normalize_result(r);
  return out;
}

bool parses(std::string_view sql, ParseError* error) {
  detail::ParseTree tree(sql);
  if (!tree.ok() && error) *error = tree.error();
  return tree.ok();
}

}  // namespace pgopt::sql
