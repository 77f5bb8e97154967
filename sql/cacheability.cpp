// cacheability(): a walk over one SELECT's parse tree looking for anything that could make the same
// text give a different answer without a write to the tables it names; cache_hint(): a lexical scan
// of its leading comments.
#include "sql/cacheability.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

#include "sql/builtin_functions.hpp"
#include "sql/deep_stack.hpp"
#include "sql/lex.hpp"
#include "sql/parse_tree.hpp"
#include "sql/tree_walk.hpp"

namespace pgopt::sql {
namespace {

using detail::QualifiedName;

// Same matching as classify()'s read_only_functions: an unqualified entry vouches for the name in
// any schema, a qualified one only for that qualified call.
bool listed_stable(const std::vector<std::string>& list, const QualifiedName& call) {
  for (const std::string& entry : list) {
    size_t dot = entry.rfind('.');
    std::string_view schema = dot == std::string::npos ? std::string_view() : std::string_view(entry).substr(0, dot);
    std::string_view name = dot == std::string::npos ? std::string_view(entry) : std::string_view(entry).substr(dot + 1);
    if (!detail::iequals(name, call.name)) continue;
    if (schema.empty()) return true;
    if (!call.schema.empty() && detail::iequals(schema, call.schema)) return true;
  }
  return false;
}

// nullopt: the call gives the same answer for the same key. Else why not.
std::optional<std::string> function_obstacle(const PgQuery__FuncCall* f, const CacheabilityOptions& opt) {
  QualifiedName q = detail::qualified_name(f->funcname, f->n_funcname);
  if (q.name.empty()) return std::string("calls a function with no name");
  if (listed_stable(opt.stable_functions, q)) return std::nullopt;
  bool catalog_schema = q.schema.empty() || q.schema == "pg_catalog";
  std::optional<detail::Volatility> v = catalog_schema ? detail::builtin_volatility(q.name) : std::nullopt;
  if (!v) return "calls user function " + q.display() + "() (not in the cache's stable_functions)";
  if (detail::is_builtin_writer(q.name)) return "calls " + std::string(q.name) + "()";
  switch (*v) {
    case detail::Volatility::Immutable: return std::nullopt;
    case detail::Volatility::Stable:
      if (detail::is_key_stable_builtin(q.name)) return std::nullopt;
      return "calls stable function " + std::string(q.name) + "() (may change between statements)";
    case detail::Volatility::Volatile: break;
  }
  return "calls volatile function " + std::string(q.name) + "()";
}

std::optional<std::string> clock_obstacle(const PgQuery__SQLValueFunction* f) {
  switch (f->op) {
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_DATE: return "CURRENT_DATE";
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIME:
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIME_N: return "CURRENT_TIME";
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIMESTAMP:
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIMESTAMP_N: return "CURRENT_TIMESTAMP";
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIME:
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIME_N: return "LOCALTIME";
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIMESTAMP:
    case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIMESTAMP_N: return "LOCALTIMESTAMP";
    default: return std::nullopt;  // CURRENT_USER, SESSION_USER, CURRENT_CATALOG ...: in the key
  }
}

// System relations change without any write pgopt could see (statistics views, locks, activity).
std::optional<std::string> relation_obstacle(std::string_view schema, std::string_view name) {
  auto starts = [](std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; };
  if (schema == "pg_catalog" || schema == "information_schema" || starts(schema, "pg_temp") ||
      starts(schema, "pg_toast"))
    return "reads system or temporary relation " + std::string(schema) + "." + std::string(name);
  if (schema.empty() && starts(name, "pg_"))
    return "reads " + std::string(name) + " (a pg_ name: taken for a system catalog or view)";
  return std::nullopt;
}

std::string_view lock_name(PgQuery__LockClauseStrength s) {
  switch (s) {
    case PG_QUERY__LOCK_CLAUSE_STRENGTH__LCS_FORKEYSHARE: return "SELECT ... FOR KEY SHARE";
    case PG_QUERY__LOCK_CLAUSE_STRENGTH__LCS_FORSHARE: return "SELECT ... FOR SHARE";
    case PG_QUERY__LOCK_CLAUSE_STRENGTH__LCS_FORNOKEYUPDATE: return "SELECT ... FOR NO KEY UPDATE";
    default: return "SELECT ... FOR UPDATE";
  }
}

class Walker {
 public:
  Walker(const CacheabilityOptions& opt, Cacheability& out) : opt_(opt), out_(out) {}

  void statement(const PgQuery__Node* root) {
    detail::for_each_node(root, [&](const PgQuery__Node* n) {
      visit(n, root);
      return true;
    });
  }

 private:
  void obstacle(std::string reason) {
    if (out_.reason.empty()) out_.reason = std::move(reason);
  }

  void visit(const PgQuery__Node* n, const PgQuery__Node* root) {
    switch (n->node_case) {
      case PG_QUERY__NODE__NODE_SELECT_STMT: {
        const PgQuery__SelectStmt* s = n->select_stmt;
        if (s->into_clause) obstacle("SELECT INTO");
        for (size_t i = 0; i < s->n_locking_clause; ++i) {
          const PgQuery__Node* l = s->locking_clause[i];
          if (l && l->node_case == PG_QUERY__NODE__NODE_LOCKING_CLAUSE)
            obstacle(std::string(lock_name(l->locking_clause->strength)));
        }
        break;
      }
      case PG_QUERY__NODE__NODE_INSERT_STMT:
      case PG_QUERY__NODE__NODE_UPDATE_STMT:
      case PG_QUERY__NODE__NODE_DELETE_STMT:
      case PG_QUERY__NODE__NODE_MERGE_STMT:
        if (n != root) obstacle("data-modifying CTE");
        break;
      case PG_QUERY__NODE__NODE_FUNC_CALL:
        if (auto why = function_obstacle(n->func_call, opt_)) obstacle(std::move(*why));
        break;
      case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION:
        if (auto clock = clock_obstacle(n->sqlvalue_function)) obstacle("reads the clock (" + *clock + ")");
        break;
      case PG_QUERY__NODE__NODE_RANGE_TABLE_SAMPLE:
        if (!n->range_table_sample->repeatable) obstacle("TABLESAMPLE without REPEATABLE");
        break;
      case PG_QUERY__NODE__NODE_RANGE_VAR: {
        const PgQuery__RangeVar* rv = n->range_var;
        std::string_view schema = rv->schemaname ? rv->schemaname : "";
        std::string_view name = rv->relname ? rv->relname : "";
        if (name.empty()) break;
        if (auto why = relation_obstacle(schema, name)) obstacle(std::move(*why));
        if (rv->relpersistence && std::string_view(rv->relpersistence) == "t") obstacle("reads a temporary relation");
        out_.tables.push_back(schema.empty() ? std::string(name) : std::string(schema) + "." + std::string(name));
        break;
      }
      default:
        break;
    }
  }

  const CacheabilityOptions& opt_;
  Cacheability& out_;
};

Cacheability cacheability_parsed(std::string_view sql, const CacheabilityOptions& options) {
  Cacheability out;
  detail::ParseTree tree(sql);
  if (!tree.ok()) {
    out.reason = "does not parse: " + tree.error().message;
    return out;
  }
  if (tree.statement_count() != 1) {
    out.reason = tree.statement_count() == 0 ? "no statement" : "more than one statement";
    return out;
  }
  const PgQuery__RawStmt* raw = tree.statement(0);
  const PgQuery__Node* stmt = raw ? raw->stmt : nullptr;
  if (!stmt || stmt->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) {
    out.reason = "not a SELECT, VALUES or TABLE statement";
    return out;
  }
  Walker(options, out).statement(stmt);
  std::sort(out.tables.begin(), out.tables.end());
  out.tables.erase(std::unique(out.tables.begin(), out.tables.end()), out.tables.end());
  out.cacheable = out.reason.empty();
  return out;
}

// ---- the hint ---------------------------------------------------------------------------------

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// `ttl=<integer><unit>`; the hint's whole argument text.
CacheHint parse_hint_args(std::string_view args) {
  CacheHint h;
  constexpr std::string_view kTtl = "ttl";
  if (args.size() < kTtl.size() || !detail::iequals(args.substr(0, kTtl.size()), kTtl)) {
    h.error = "pgopt:cache hint needs ttl=<duration>, e.g. /* pgopt:cache ttl=5s */";
    return h;
  }
  std::string_view rest = trim(args.substr(kTtl.size()));
  if (rest.empty() || rest.front() != '=') {
    h.error = "pgopt:cache hint: expected '=' after ttl";
    return h;
  }
  rest = trim(rest.substr(1));
  long long n = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), n);
  std::string_view unit = trim(std::string_view(end, size_t(rest.data() + rest.size() - end)));
  long long scale = 0;
  if (detail::iequals(unit, "ms")) scale = 1;
  else if (detail::iequals(unit, "s")) scale = 1000;
  else if (detail::iequals(unit, "min")) scale = 60'000;
  else if (detail::iequals(unit, "h")) scale = 3'600'000;
  constexpr long long kMaxTtlMs = 7LL * 24 * 3'600'000;  // a week: beyond that a typo is likelier
  if (ec != std::errc() || end == rest.data() || scale == 0 || n <= 0 || n > kMaxTtlMs / scale) {
    h.error = "pgopt:cache hint: bad ttl \"" + std::string(rest) +
              "\" (a positive integer with ms, s, min or h, at most a week)";
    return h;
  }
  h.ttl = std::chrono::milliseconds(n * scale);
  return h;
}

// The hint in one comment's content, or nullopt when the comment is not a pgopt:cache hint.
std::optional<CacheHint> hint_in(std::string_view content) {
  content = trim(content);
  if (content.size() < 5 || !detail::iequals(content.substr(0, 5), "pgopt")) return std::nullopt;
  std::string_view rest = trim(content.substr(5));
  if (rest.empty() || rest.front() != ':') return std::nullopt;
  rest = trim(rest.substr(1));
  constexpr std::string_view kCache = "cache";
  if (rest.size() < kCache.size() || !detail::iequals(rest.substr(0, kCache.size()), kCache)) return std::nullopt;
  std::string_view args = rest.substr(kCache.size());
  if (!args.empty() && !is_space(args.front())) return std::nullopt;  // pgopt:cached is not ours
  return parse_hint_args(trim(args));
}

}  // namespace

std::optional<CacheHint> cache_hint(std::string_view sql) {
  // The first pgopt:cache hint among the leading comments (nested ones are never hints, as in the
  // pooler's routing hints); none when a comment is unclosed: the server reports it.
  std::optional<CacheHint> found;
  const size_t body = lex::leading_comments(sql, [&](const lex::LeadingComment& c) {
    if (!found && !c.nested) found = hint_in(c.content);
  });
  return body == lex::kUnclosed ? std::nullopt : found;
}

Cacheability cacheability(std::string_view sql, const CacheabilityOptions& options) {
  auto result = detail::call_with_stack_for(sql.size(), [&] { return cacheability_parsed(sql, options); });
  Cacheability out;
  if (result) out = std::move(*result);
  else out.reason = "not analysed: statement too long";
  out.hint = cache_hint(sql);
  return out;
}

}  // namespace pgopt::sql
