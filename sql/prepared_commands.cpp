// SQL-level prepared-statement commands (PREPARE, EXECUTE, DEALLOCATE) found in a query string.
#include "sql/prepared_commands.hpp"

#include <vector>

#include "sql/parse_tree.hpp"
#include "sql/statement_info.hpp"

namespace pgopt::sql {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

bool word_at(std::string_view s, size_t i, std::string_view w) {
  if (i + w.size() > s.size()) return false;
  for (size_t k = 0; k < w.size(); ++k)
    if (lower(s[i + k]) != w[k]) return false;
  return true;
}

struct Token {
  size_t begin, end;
};

// The statement's tokens without comments, from PostgreSQL's own scanner (so quoting, dollar
// quotes and nested comments are handled exactly as the server does).
std::vector<Token> tokens(std::string_view sql) {
  std::vector<Token> out;
  std::string text(sql);
  PgQueryScanResult r = pg_query_scan(text.c_str());
  if (!r.error) {
    auto* scan = pg_query__scan_result__unpack(nullptr, r.pbuf.len, reinterpret_cast<const uint8_t*>(r.pbuf.data));
    if (scan) {
      for (size_t i = 0; i < scan->n_tokens; ++i) {
        const auto* t = scan->tokens[i];
        if (t->token == PG_QUERY__TOKEN__SQL_COMMENT || t->token == PG_QUERY__TOKEN__C_COMMENT) continue;
        out.push_back({size_t(t->start), size_t(t->end)});
      }
      pg_query__scan_result__free_unpacked(scan, nullptr);
    }
  }
  pg_query_free_scan_result(r);
  return out;
}

}  // namespace

bool may_be_prepared_command(std::string_view sql) { return analyze(sql).may(Mark::PreparedCommand); }

PreparedCommand prepared_command(std::string_view sql) {
  PreparedCommand out;
  detail::ParseTree tree(sql);
  if (!tree.ok()) return out;
  size_t found = 0;
  for (size_t i = 0; i < tree.statement_count(); ++i) {
    const PgQuery__Node* n = tree.statement(i)->stmt;
    if (!n) continue;
    switch (n->node_case) {
      case PG_QUERY__NODE__NODE_PREPARE_STMT:
        ++found;
        out.kind = PreparedCommand::Kind::Prepare;
        out.name = n->prepare_stmt->name;
        break;
      case PG_QUERY__NODE__NODE_EXECUTE_STMT:
        ++found;
        out.kind = PreparedCommand::Kind::Execute;
        out.name = n->execute_stmt->name;
        break;
      case PG_QUERY__NODE__NODE_DEALLOCATE_STMT: {
        ++found;
        const char* name = n->deallocate_stmt->name;
        out.name = name ? name : "";
        out.kind = out.name.empty() ? PreparedCommand::Kind::DeallocateAll : PreparedCommand::Kind::Deallocate;
        break;
      }
      default:
        break;
    }
  }
  if (found == 0) return PreparedCommand{};
  if (tree.statement_count() > 1) {
    PreparedCommand mixed;
    mixed.kind = PreparedCommand::Kind::Mixed;
    return mixed;
  }
  if (out.kind == PreparedCommand::Kind::DeallocateAll) return out;
  // The name is the token after the command word (after DEALLOCATE's optional PREPARE).
  auto toks = tokens(sql);
  size_t at = 1;
  if (out.kind == PreparedCommand::Kind::Deallocate && toks.size() > 2 &&
      word_at(sql, toks[1].begin, "prepare") && toks[1].end - toks[1].begin == 7)
    at = 2;
  if (toks.size() <= at) return PreparedCommand{};
  out.name_begin = toks[at].begin;
  out.name_end = toks[at].end;
  return out;
}

std::vector<PreparedCommand> prepared_commands_in(std::string_view sql) {
  std::vector<PreparedCommand> out;
  detail::ParseTree tree(sql);
  if (!tree.ok()) return out;
  for (size_t i = 0; i < tree.statement_count(); ++i) {
    const PgQuery__Node* n = tree.statement(i)->stmt;
    if (!n) continue;
    PreparedCommand c;
    const char* name = nullptr;
    if (n->node_case == PG_QUERY__NODE__NODE_PREPARE_STMT) {
      c.kind = PreparedCommand::Kind::Prepare;
      name = n->prepare_stmt->name;
    } else if (n->node_case == PG_QUERY__NODE__NODE_EXECUTE_STMT) {
      c.kind = PreparedCommand::Kind::Execute;
      name = n->execute_stmt->name;
    } else if (n->node_case == PG_QUERY__NODE__NODE_DEALLOCATE_STMT) {
      c.kind = PreparedCommand::Kind::Deallocate;
      name = n->deallocate_stmt->name;
    }
    if (!name || !*name) continue;
    c.name = name;
    out.push_back(std::move(c));
  }
  return out;
}

std::optional<PrepareError> check_preparable(std::string_view sql) {
  detail::ParseTree tree(sql);
  if (!tree.ok()) return PrepareError{"42601", tree.error().message, tree.error().cursor};
  if (tree.statement_count() > 1)
    return PrepareError{"42601", "cannot insert multiple commands into a prepared statement", 0};
  return std::nullopt;
}

}  // namespace pgopt::sql
