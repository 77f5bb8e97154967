// libpg_query's fingerprint and normalize behind pgopt's own types.
#include "sql/parser.hpp"

#include <pg_query.h>

#include <cctype>
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

std::vector<std::string> split_statements(std::string_view sql) {
  std::string text(sql);
  PgQuerySplitResult r = pg_query_split_with_scanner(text.c_str());
  std::vector<std::string> out;
  if (!r.error) {
    for (int i = 0; i < r.n_stmts; ++i) {
      std::string_view s = std::string_view(text).substr(size_t(r.stmts[i]->stmt_location), size_t(r.stmts[i]->stmt_len));
      while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
      while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.back())) || s.back() == ';')) s.remove_suffix(1);
      if (!s.empty()) out.emplace_back(s);
    }
  }
  pg_query_free_split_result(r);
  return out;
}

bool parses(std::string_view sql, ParseError* error) {
  detail::ParseTree tree(sql);
  if (!tree.ok() && error) *error = tree.error();
  return tree.ok();
}

}  // namespace pgopt::sql
