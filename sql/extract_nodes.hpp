// Internal to sql/: small readers over libpg_query's protobuf nodes shared by the extractors.
#pragma once

#include <pg_query.pb-c.h>

#include <algorithm>
#include <cctype>
#include <string>

namespace pgopt::sql::detail {

using Node = PgQuery__Node;

inline std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

inline const char* str_or_empty(const char* s) { return s ? s : ""; }

// String node value ("" for anything else).
inline std::string string_value(const Node* n) {
  if (n && n->node_case == PG_QUERY__NODE__NODE_STRING && n->string) return str_or_empty(n->string->sval);
  return {};
}

// "schema.table" or "table" as PostgreSQL names them: the grammar already folded unquoted
// identifiers, so folding again would turn "Bar"."Foo" into bar.foo, another table.
inline std::string relation_name(const PgQuery__RangeVar* rv) {
  if (!rv) return {};
  std::string name = str_or_empty(rv->relname);
  if (rv->schemaname && *rv->schemaname) name = std::string(rv->schemaname) + "." + name;
  return name;
}

inline std::string quote_literal(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

inline std::string type_name(const PgQuery__TypeName* tn) {
  if (!tn) return {};
  std::string out;
  for (size_t i = 0; i < tn->n_names; ++i) {
    std::string part = string_value(tn->names[i]);
    if (part == "pg_catalog") continue;
    if (!out.empty()) out += '.';
    out += part;
  }
  // The grammar's internal names for common types, spelled the way a DBA writes them.
  if (out == "int4") out = "integer";
  else if (out == "int8") out = "bigint";
  else if (out == "int2") out = "smallint";
  else if (out == "bool") out = "boolean";
  else if (out == "float8") out = "double precision";
  else if (out == "float4") out = "real";
  else if (out == "varchar") out = "character varying";
  else if (out == "bpchar") out = "character";
  else if (out == "timestamptz") out = "timestamp with time zone";
  else if (out == "timestamp") out = "timestamp without time zone";
  return out;
}

// A constant as SQL text, or "" when the node is not a constant (casts of constants included).
inline std::string literal_text(const Node* n) {
  if (!n) return {};
  if (n->node_case == PG_QUERY__NODE__NODE_A_CONST && n->a_const) {
    const auto* c = n->a_const;
    if (c->isnull) return "NULL";
    switch (c->val_case) {
      case PG_QUERY__A__CONST__VAL_IVAL: return std::to_string(c->ival ? c->ival->ival : 0);
      case PG_QUERY__A__CONST__VAL_FVAL: return c->fval ? str_or_empty(c->fval->fval) : "0";
      case PG_QUERY__A__CONST__VAL_BOOLVAL: return c->boolval && c->boolval->boolval ? "true" : "false";
      case PG_QUERY__A__CONST__VAL_SVAL: return quote_literal(c->sval ? str_or_empty(c->sval->sval) : "");
      case PG_QUERY__A__CONST__VAL_BSVAL: return c->bsval ? std::string("B'") + str_or_empty(c->bsval->bsval) + "'" : "";
      default: return {};
    }
  }
  if (n->node_case == PG_QUERY__NODE__NODE_TYPE_CAST && n->type_cast) {
    std::string inner = literal_text(n->type_cast->arg);
    if (inner.empty()) return {};
    std::string t = type_name(n->type_cast->type_name);
    if (t == "boolean" && (inner == "'t'" || inner == "'true'")) return "true";
    if (t == "boolean" && (inner == "'f'" || inner == "'false'")) return "false";
    return t.empty() ? inner : inner + "::" + t;
  }
  return {};
}

// The raw value of a string constant (for LIKE patterns); false when the node is not one.
inline bool string_constant(const Node* n, std::string& out) {
  while (n && n->node_case == PG_QUERY__NODE__NODE_TYPE_CAST && n->type_cast) n = n->type_cast->arg;
  if (n && n->node_case == PG_QUERY__NODE__NODE_A_CONST && n->a_const &&
      n->a_const->val_case == PG_QUERY__A__CONST__VAL_SVAL && n->a_const->sval) {
    out = str_or_empty(n->a_const->sval->sval);
    return true;
  }
  return false;
}

// One expression back to SQL text ("" when libpg_query cannot deparse it); extract_ddl.cpp.
std::string deparse_expr(const Node* expr);

inline bool is_param(const Node* n) {
  while (n && n->node_case == PG_QUERY__NODE__NODE_TYPE_CAST && n->type_cast) n = n->type_cast->arg;
  return n && n->node_case == PG_QUERY__NODE__NODE_PARAM_REF;
}

}  // namespace pgopt::sql::detail
