// Replacing the references to one relation in a statement string by a subquery.
#include "sql/relation_rewrite.hpp"

#include <algorithm>
#include <vector>

#include "sql/deep_stack.hpp"
#include "sql/parse_tree.hpp"
#include "sql/tree_walk.hpp"

namespace pgopt::sql {
namespace {

struct Reference {
  size_t begin = 0;
  int name_tokens = 1;  // catalog.schema.name: 5, schema.name: 3, name: 1
  bool aliased = false;
};

std::optional<std::vector<Reference>> references(std::string_view sql, std::string_view schema, std::string_view name) {
  detail::ParseTree tree(sql);
  if (!tree.ok()) return std::nullopt;
  std::vector<Reference> out;
  for (size_t i = 0; i < tree.statement_count(); ++i) {
    detail::for_each_node(tree.statement(i)->stmt, [&](const PgQuery__Node* n) {
      if (n->node_case != PG_QUERY__NODE__NODE_RANGE_VAR) return true;
      const PgQuery__RangeVar* rv = n->range_var;
      const std::string_view rel = rv->relname ? rv->relname : "", sch = rv->schemaname ? rv->schemaname : "";
      const bool has_catalog = rv->catalogname && *rv->catalogname;
      if (rel == name && (sch.empty() || sch == schema) && rv->location >= 0)
        out.push_back({size_t(rv->location), 1 + (sch.empty() ? 0 : 2) + (has_catalog ? 2 : 0), rv->alias != nullptr});
      return true;
    });
  }
  return out;
}

// The relation's own name as an alias, double-quoted unless it is a plain lower-case name (a
// mixed-case name unquoted would fold and no longer match the references to it).
std::string alias_for(std::string_view name) {
  bool plain = !name.empty() && !(name[0] >= '0' && name[0] <= '9');
  for (char c : name) plain = plain && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  if (plain) return std::string(name);
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Byte ranges of the tokens, from PostgreSQL's own scanner.
std::vector<std::pair<size_t, size_t>> token_ranges(std::string_view sql) {
  std::vector<std::pair<size_t, size_t>> out;
  std::string text(sql);
  PgQueryScanResult r = pg_query_scan(text.c_str());
  if (!r.error) {
    auto* scan = pg_query__scan_result__unpack(nullptr, r.pbuf.len, reinterpret_cast<const uint8_t*>(r.pbuf.data));
    if (scan) {
      for (size_t i = 0; i < scan->n_tokens; ++i) {
        const auto* t = scan->tokens[i];
        if (t->token == PG_QUERY__TOKEN__SQL_COMMENT || t->token == PG_QUERY__TOKEN__C_COMMENT) continue;
        out.emplace_back(size_t(t->start), size_t(t->end));
      }
      pg_query__scan_result__free_unpacked(scan, nullptr);
    }
  }
  pg_query_free_scan_result(r);
  return out;
}

std::optional<std::string> rewrite(std::string_view sql, std::string_view schema, std::string_view name,
                                   std::string_view subquery) {
  auto refs = references(sql, schema, name);
  if (!refs || refs->empty()) return std::nullopt;
  auto toks = token_ranges(sql);
  std::sort(refs->begin(), refs->end(), [](const Reference& a, const Reference& b) { return a.begin > b.begin; });
  std::string out(sql);
  for (const auto& ref : *refs) {  // last first, so earlier offsets stay valid
    auto it = std::find_if(toks.begin(), toks.end(), [&](const auto& t) { return t.first == ref.begin; });
    if (it == toks.end() || toks.end() - it < ref.name_tokens) return std::nullopt;
    const size_t end = (it + (ref.name_tokens - 1))->second;
    std::string with = "(" + std::string(subquery) + ")";
    if (!ref.aliased) with += " AS " + alias_for(name);
    out.replace(ref.begin, end - ref.begin, with);
  }
  return out;
}

}  // namespace

std::optional<std::string> replace_relation(std::string_view sql, std::string_view schema, std::string_view name,
                                            std::string_view subquery) {
  auto r = detail::call_with_stack_for(sql.size(), [&] { return rewrite(sql, schema, name, subquery); });
  return r ? std::move(*r) : std::nullopt;
}

}  // namespace pgopt::sql
