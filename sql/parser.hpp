// The project's only door to libpg_query: parse, fingerprint and normalize, with no parser types leaking.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgopt::sql {

struct ParseError {
  std::string message;
  int cursor = 0;  // 1-based character position, 0 when unknown
};

// libpg_query's fingerprint: equal for statements that differ only in constants and whitespace.
// Unlike libpg_query's own value, table names keep their digit runs: t12 and t13 differ.
struct FingerprintResult {
  std::optional<uint64_t> value;
  ParseError error;
};
FingerprintResult fingerprint(std::string_view sql);
std::string fingerprint_hex(uint64_t fp);  // 16 lowercase hex digits

// Constants replaced by $1, $2, ... (pg_stat_statements style).
struct NormalizeResult {
  std::optional<std::string> text;
  ParseError error;
};
NormalizeResult normalize(std::string_view sql);

// The statements of a script, split at the `;` that end them (PostgreSQL's scanner: semicolons in
// strings, comments and dollar quotes do not split), trimmed, empty ones dropped.
std::vector<std::string> split_statements(std::string_view sql);

// True when the SQL parses. Used by callers that only need a yes/no.
bool parses(std::string_view sql, ParseError* error = nullptr);

}  // namespace pgopt::sql
