// Parsing PostgreSQL's text output of arrays ('{a,"b c",NULL}') and int2vector/oidvector ('1 0 2').
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pgopt::analyzer::advisor {

// One-dimensional arrays only (what pg_stats and current_schemas return); NULL elements become "".
std::vector<std::string> parse_pg_array(std::string_view text);
std::vector<std::string> parse_int_vector(std::string_view text);

}  // namespace pgopt::analyzer::advisor
