// Reads table, index and key definitions from a schema file (pg_dump -s output or hand-written DDL).
#include <pg_query.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "sql/extract.hpp"
#include "sql/extract_nodes.hpp"
#include "sql/parse_tree.hpp"

namespace pgopt::sql {

// Wraps the expression in `SELECT expr`, borrowing the node rather than copying it.
std::string detail::deparse_expr(const Node* expr) {
  if (!expr) return {};
  PgQuery__ResTarget target = PG_QUERY__RES_TARGET__INIT;
  target.val = const_cast<Node*>(expr);
  PgQuery__Node target_node = PG_QUERY__NODE__INIT;
  target_node.node_case = PG_QUERY__NODE__NODE_RES_TARGET;
  target_node.res_target = &target;
  PgQuery__Node* targets[1] = {&target_node};
  PgQuery__SelectStmt select = PG_QUERY__SELECT_STMT__INIT;
  select.n_target_list = 1;
  select.target_list = targets;
  select.op = PG_QUERY__SET_OPERATION__SETOP_NONE;
  select.limit_option = PG_QUERY__LIMIT_OPTION__LIMIT_OPTION_DEFAULT;
  PgQuery__Node stmt_node = PG_QUERY__NODE__INIT;
  stmt_node.node_case = PG_QUERY__NODE__NODE_SELECT_STMT;
  stmt_node.select_stmt = &select;
  PgQuery__RawStmt raw = PG_QUERY__RAW_STMT__INIT;
  raw.stmt = &stmt_node;
  PgQuery__RawStmt* stmts[1] = {&raw};
  PgQuery__ParseResult result = PG_QUERY__PARSE_RESULT__INIT;
  result.version = PG_VERSION_NUM;
  result.n_stmts = 1;
  result.stmts = stmts;

  std::string buf(pg_query__parse_result__get_packed_size(&result), '\0');
  pg_query__parse_result__pack(&result, reinterpret_cast<uint8_t*>(buf.data()));
  PgQueryProtobuf pb{buf.size(), buf.data()};
  PgQueryDeparseResult d = pg_query_deparse_protobuf(pb);
  std::string out;
  if (!d.error && d.query) {
    out = d.query;
    if (out.rfind("SELECT ", 0) == 0) out = out.substr(7);
  }
  pg_query_free_deparse_result(d);
  return out;
}

namespace {
using namespace detail;

std::vector<std::string> names_of(PgQuery__Node* const* items, size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) {
    const Node* x = items[i];
    if (x->node_case == PG_QUERY__NODE__NODE_INDEX_ELEM) {
      const auto* e = x->index_elem;
      out.push_back(e->name && *e->name ? std::string(e->name) : "(" + deparse_expr(e->expr) + ")");
    } else {
      out.push_back(string_value(x));
    }
  }
  return out;
}

std::string last_part(const std::string& relation) {
  auto dot = relation.rfind('.');
  return dot == std::string::npos ? relation : relation.substr(dot + 1);
}

class SchemaReader {
 public:
  explicit SchemaReader(SchemaDefinition& out) : out_(out) {}

  void statement(const Node* n) {
    switch (n->node_case) {
      case PG_QUERY__NODE__NODE_CREATE_STMT: create_table(n->create_stmt); break;
      case PG_QUERY__NODE__NODE_INDEX_STMT: create_index(n->index_stmt); break;
      case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT: alter_table(n->alter_table_stmt); break;
      default: break;
    }
  }

 private:
  SchemaDefinition& out_;

  void constraint(const std::string& relation, const PgQuery__Constraint* c, const std::string& column) {
    bool primary = c->contype == PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY;
    bool unique = c->contype == PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE;
    if (!primary && !unique) return;
    IndexDefinition idx;
    idx.relation = relation;
    idx.columns = c->n_keys ? names_of(c->keys, c->n_keys) : std::vector<std::string>{column};
    idx.descending.assign(idx.columns.size(), false);
    idx.include = names_of(c->including, c->n_including);
    idx.unique = true;
    idx.primary = primary;
    if (c->conname && *c->conname) {
      idx.name = c->conname;
    } else if (primary) {
      idx.name = last_part(relation) + "_pkey";
    } else {
      idx.name = last_part(relation) + "_" + idx.columns.front() + "_key";
    }
    if (c->where_clause) idx.where = deparse_expr(c->where_clause);
    out_.indexes.push_back(std::move(idx));
  }

  void create_table(const PgQuery__CreateStmt* s) {
    TableDefinition t;
    t.relation = relation_name(s->relation);
    std::string_view persistence = s->relation->relpersistence ? s->relation->relpersistence : "";
    if (persistence == "u") t.persistence = "unlogged";
    if (persistence == "t") t.persistence = "temporary";
    // PARTITION OF lists its parent among the inherited relations (the grammar shares the field).
    for (size_t i = 0; i < s->n_inh_relations; ++i)
      if (s->inh_relations[i]->node_case == PG_QUERY__NODE__NODE_RANGE_VAR) {
        std::string parent = relation_name(s->inh_relations[i]->range_var);
        if (s->partbound) t.partition_of = parent;
        else t.inherits.push_back(parent);
      }
    for (size_t i = 0; i < s->n_table_elts; ++i) {
      const Node* e = s->table_elts[i];
      if (e->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF) {
        const auto* cd = e->column_def;
        ColumnDefinition col;
        col.name = str_or_empty(cd->colname);
        col.type = type_name(cd->type_name);
        col.not_null = cd->is_not_null;
        for (size_t k = 0; k < cd->n_constraints; ++k) {
          const Node* cn = cd->constraints[k];
          if (cn->node_case != PG_QUERY__NODE__NODE_CONSTRAINT) continue;
          auto type = cn->constraint->contype;
          if (type == PG_QUERY__CONSTR_TYPE__CONSTR_NOTNULL || type == PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY)
            col.not_null = true;
          constraint(t.relation, cn->constraint, col.name);
        }
        t.columns.push_back(std::move(col));
      } else if (e->node_case == PG_QUERY__NODE__NODE_CONSTRAINT) {
        constraint(t.relation, e->constraint, "");
      }
    }
    for (size_t i = 0; i < s->n_constraints; ++i)
      if (s->constraints[i]->node_case == PG_QUERY__NODE__NODE_CONSTRAINT)
        constraint(t.relation, s->constraints[i]->constraint, "");
    if (s->partspec) {
      std::string cols;
      for (size_t i = 0; i < s->partspec->n_part_params; ++i) {
        const Node* p = s->partspec->part_params[i];
        if (p->node_case != PG_QUERY__NODE__NODE_PARTITION_ELEM) continue;
        const auto* pe = p->partition_elem;
        if (!cols.empty()) cols += ", ";
        cols += pe->name && *pe->name ? std::string(pe->name) : "(" + deparse_expr(pe->expr) + ")";
      }
      std::string strategy = lower(str_or_empty(s->partspec->strategy));
      for (auto& ch : strategy) ch = char(std::toupper(static_cast<unsigned char>(ch)));
      t.partition_by = strategy + " (" + cols + ")";
    }
    out_.tables.push_back(std::move(t));
  }

  void create_index(const PgQuery__IndexStmt* s) {
    IndexDefinition idx;
    idx.name = str_or_empty(s->idxname);
    idx.relation = relation_name(s->relation);
    idx.method = s->access_method && *s->access_method ? lower(s->access_method) : "btree";
    for (size_t i = 0; i < s->n_index_params; ++i) {
      const Node* p = s->index_params[i];
      if (p->node_case != PG_QUERY__NODE__NODE_INDEX_ELEM) continue;
      const auto* e = p->index_elem;
      idx.columns.push_back(e->name && *e->name ? std::string(e->name) : "(" + deparse_expr(e->expr) + ")");
      idx.descending.push_back(e->ordering == PG_QUERY__SORT_BY_DIR__SORTBY_DESC);
    }
    idx.include = names_of(s->index_including_params, s->n_index_including_params);
    if (s->where_clause) idx.where = deparse_expr(s->where_clause);
    idx.unique = s->unique;
    idx.primary = s->primary;
    if (idx.name.empty()) idx.name = last_part(idx.relation) + "_" + (idx.columns.empty() ? "" : idx.columns[0]) + "_idx";
    out_.indexes.push_back(std::move(idx));
  }

  void alter_table(const PgQuery__AlterTableStmt* s) {
    std::string relation = relation_name(s->relation);
    for (size_t i = 0; i < s->n_cmds; ++i) {
      const Node* c = s->cmds[i];
      if (c->node_case != PG_QUERY__NODE__NODE_ALTER_TABLE_CMD) continue;
      const auto* cmd = c->alter_table_cmd;
      if (cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_AddConstraint && cmd->def &&
          cmd->def->node_case == PG_QUERY__NODE__NODE_CONSTRAINT)
        constraint(relation, cmd->def->constraint, "");
    }
  }
};

// Blanks psql meta-commands and COPY ... FROM stdin data (keeping line numbers) so the rest parses.
std::string strip_non_sql(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  bool in_copy_data = false;
  size_t pos = 0;
  while (pos <= sql.size()) {
    size_t end = sql.find('\n', pos);
    if (end == std::string_view::npos) end = sql.size();
    std::string_view line = sql.substr(pos, end - pos);
    if (in_copy_data) {
      if (line == "\\." || line == "\\.\r") in_copy_data = false;
    } else if (!line.empty() && line[0] == '\\') {
      // psql meta-command: dropped
    } else {
      out.append(line);
      std::string low = lower(std::string(line));
      if (low.rfind("copy ", 0) == 0 && low.find("from stdin") != std::string::npos) in_copy_data = true;
    }
    if (end < sql.size()) out += '\n';
    pos = end + 1;
  }
  return out;
}

int line_of(const std::string& text, size_t offset) {
  int line = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i)
    if (text[i] == '\n') ++line;
  return line;
}

}  // namespace

SchemaDefinition parse_schema(std::string_view sql) {
  SchemaDefinition out;
  std::string text = strip_non_sql(sql);
  SchemaReader reader(out);
  PgQuerySplitResult split = pg_query_split_with_scanner(text.c_str());
  if (split.error) {
    out.errors.push_back("line " + std::to_string(line_of(text, size_t(std::max(0, split.error->cursorpos - 1)))) +
                         ": " + str_or_empty(split.error->message));
    pg_query_free_split_result(split);
    return out;
  }
  // The scanner's split drops an unterminated last statement: keep whatever follows the last one.
  std::vector<std::pair<size_t, size_t>> pieces;
  size_t covered = 0;
  for (int i = 0; i < split.n_stmts; ++i) {
    size_t begin = size_t(split.stmts[i]->stmt_location);
    size_t len = split.stmts[i]->stmt_len ? size_t(split.stmts[i]->stmt_len) : text.size() - begin;
    pieces.emplace_back(begin, len);
    covered = begin + len;
  }
  if (covered < text.size() && text.find_first_not_of(" \t\r\n;", covered) != std::string::npos)
    pieces.emplace_back(covered, text.size() - covered);
  for (auto [begin, len] : pieces) {
    std::string_view stmt = std::string_view(text).substr(begin, len);
    ParseTree tree(stmt);
    if (!tree.ok()) {
      size_t at = begin + size_t(std::max(0, tree.error().cursor - 1));
      // "at end of input" points past the statement: name its last line instead.
      size_t last = text.find_last_not_of(" \t\r\n", begin + len - 1);
      if (last != std::string::npos && last >= begin) at = std::min(at, last);
      // Report where the statement starts (skipping leading blank lines), not the split point.
      while (begin < text.size() && (text[begin] == '\n' || text[begin] == ' ' || text[begin] == '\t')) ++begin;
      out.errors.push_back("line " + std::to_string(line_of(text, tree.error().cursor ? at : begin)) + ": " +
                           tree.error().message);
      continue;
    }
    for (size_t k = 0; k < tree.statement_count(); ++k) reader.statement(tree.statement(k)->stmt);
  }
  pg_query_free_split_result(split);
  return out;
}

}  // namespace pgopt::sql
