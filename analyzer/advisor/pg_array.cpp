// PostgreSQL array text parsing (see pg_array.hpp).
#include "analyzer/advisor/pg_array.hpp"

namespace pgopt::analyzer::advisor {

std::vector<std::string> parse_pg_array(std::string_view text) {
  std::vector<std::string> out;
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') return out;
  std::string_view body = text.substr(1, text.size() - 2);
  if (body.empty()) return out;
  std::string cur;
  bool quoted = false, was_quoted = false;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (quoted) {
      if (c == '\\' && i + 1 < body.size()) {
        cur += body[++i];
      } else if (c == '"') {
        quoted = false;
      } else {
        cur += c;
      }
    } else if (c == '"') {
      quoted = was_quoted = true;
    } else if (c == ',') {
      out.push_back(!was_quoted && cur == "NULL" ? "" : cur);
      cur.clear();
      was_quoted = false;
    } else {
      cur += c;
    }
  }
  out.push_back(!was_quoted && cur == "NULL" ? "" : cur);
  return out;
}

std::vector<std::string> parse_int_vector(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (c == ' ') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

}  // namespace pgopt::analyzer::advisor
