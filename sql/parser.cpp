// libpg_query's fingerprint and normalize behind pgopt's own types.
#include "sql/parser.hpp"

#include <pg_query.h>

#include <cctype>
#include <cstdio>
#include <string>

#include "sql/deep_stack.hpp"
#include "sql/parse_tree.hpp"
#include "sql/tree_walk.hpp"

namespace pgopt::sql {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool has_digit_run(std::string_view name) {
  for (size_t i = 0; i + 1 < name.size(); ++i)
    if (is_digit(name[i]) && is_digit(name[i + 1])) return true;
  return false;
}

// True when some word of the text has two adjacent digits after a letter (t12, events_2024) or a
// quoted name holds two adjacent digits ("Events 2024"): only then can a table name have lost
// digits in libpg_query's fingerprint. Plain numbers (37, 2024) do not count, so most statements
// skip the extra parse. A false positive only costs that parse.
bool may_name_digit_runs(std::string_view sql) {
  bool word_has_letter = false;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (c == '"') {
      size_t close = sql.find('"', i + 1);
      if (close == std::string_view::npos) return false;
      if (has_digit_run(sql.substr(i + 1, close - i - 1))) return true;
      i = close;
      word_has_letter = false;
    } else if (is_digit(c)) {
      if (word_has_letter && i + 1 < sql.size() && is_digit(sql[i + 1])) return true;
    } else {
      unsigned char u = static_cast<unsigned char>(c);
      word_has_letter = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || c == '_' || u >= 0x80 ||
                        (word_has_letter && c == '$');
    }
  }
  return false;
}

// FNV-1a over the names of the relations the statement reads or writes whose names hold a run of
// two or more digits, in tree order; 0 when there are none (or the text does not parse).
uint64_t digit_run_names_hash(std::string_view sql) {
  auto hashed = detail::call_with_stack_for(sql.size(), [&]() -> uint64_t {
    detail::ParseTree tree(sql);
    if (!tree.ok()) return 0;
    uint64_t h = 0;
    auto mix = [&h](std::string_view s) {
      if (h == 0) h = 0xcbf29ce484222325ull;
      for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
      h = (h ^ 0xff) * 0x100000001b3ull;  // separator: ("t12","3") differs from ("t1","23")
    };
    for (size_t i = 0; i < tree.statement_count(); ++i)
      detail::for_each_node(tree.statement(i)->stmt, [&](const PgQuery__Node* n) {
        // A DML target is a RangeVar field, not a Node: the walk does not visit it on its own.
        const PgQuery__RangeVar* rv = nullptr;
        switch (n->node_case) {
          case PG_QUERY__NODE__NODE_RANGE_VAR: rv = n->range_var; break;
          case PG_QUERY__NODE__NODE_INSERT_STMT: rv = n->insert_stmt->relation; break;
          case PG_QUERY__NODE__NODE_UPDATE_STMT: rv = n->update_stmt->relation; break;
          case PG_QUERY__NODE__NODE_DELETE_STMT: rv = n->delete_stmt->relation; break;
          case PG_QUERY__NODE__NODE_MERGE_STMT: rv = n->merge_stmt->relation; break;
          case PG_QUERY__NODE__NODE_COPY_STMT: rv = n->copy_stmt->relation; break;
          default: break;
        }
        if (rv && rv->relname && has_digit_run(rv->relname)) mix(rv->relname);
        return true;
      });
    return h;
  });
  return hashed ? *hashed : 0;
}

}  // namespace

FingerprintResult fingerprint(std::string_view sql) {
  std::string text(sql);
  PgQueryFingerprintResult r = pg_query_fingerprint(text.c_str());
  FingerprintResult out;
  if (r.error) {
    out.error.message = r.error->message ? r.error->message : "parse error";
    out.error.cursor = r.error->cursorpos;
  } else {
    out.value = r.fingerprint;
    // libpg_query leaves runs of two or more digits out of table names, so that the partitions
    // events_2024 and events_2025 fold together. For pgopt a statement group is one access
    // pattern on one set of tables (the advisor costs a group through its samples): t12 and t13 are
    // different tables and must not share a group, so those names go back into the value.
    if (may_name_digit_runs(sql))
      if (uint64_t names = digit_run_names_hash(sql)) out.value = *out.value ^ (names * 0x9E3779B97F4A7C15ull);
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
