// Internal to sql/: a generic depth-first walk over libpg_query's protobuf tree, plus small readers
// for the node shapes the analyses share (names, constants). Never include it from outside sql/.
#pragma once

#include <pg_query.pb-c.h>

#include <optional>
#include <string>
#include <string_view>

namespace pgopt::sql::detail {

// Calls visit(node) for every PgQuery__Node reachable from root (root itself included when it is a
// Node), parents before children, children in field order. visit returns false to skip that node's
// children. Driven by protobuf-c's descriptors, so it reaches every node type libpg_query emits
// without a hand-written case per type (a new grammar field cannot silently hide a subtree).
using NodeVisitFn = bool (*)(void* ctx, const PgQuery__Node* node);
void walk_nodes(const ProtobufCMessage* root, NodeVisitFn fn, void* ctx);

template <class F>
void for_each_node(const ProtobufCMessage* root, F&& visit) {
  walk_nodes(
      root, [](void* ctx, const PgQuery__Node* n) -> bool { return (*static_cast<F*>(ctx))(n); },
      const_cast<void*>(static_cast<const void*>(&visit)));
}

template <class F>
void for_each_node(const PgQuery__Node* root, F&& visit) {
  if (root) for_each_node(&root->base, std::forward<F>(visit));
}

// The text of a String node, or empty for anything else.
std::string_view string_value(const PgQuery__Node* node);

// A dotted name list (FuncCall.funcname, CreateFunctionStmt.funcname ...) as its parts.
struct QualifiedName {
  std::string_view schema;  // empty when unqualified (a catalog part, if any, is ignored)
  std::string_view name;
  std::string display() const;  // "schema.name" or "name"
};
QualifiedName qualified_name(PgQuery__Node* const* parts, size_t n);

// A constant argument as text, as PostgreSQL would pass it to a text parameter: a string, number
// or boolean literal, optionally cast to text/varchar. nullopt for anything computed at run time.
// is_null is set for a NULL literal (which also returns a value: the empty string).
std::optional<std::string> constant_text(const PgQuery__Node* node, bool* is_null = nullptr);

// A constant boolean (true/false literal, or a string PostgreSQL's boolin accepts); nullopt when
// not constant or not a boolean. is_null as above.
std::optional<bool> constant_bool(const PgQuery__Node* node, bool* is_null = nullptr);

// PostgreSQL's boolean spelling rules (boolin / parse_bool): true, yes, on, 1 and unique prefixes.
std::optional<bool> parse_bool_text(std::string_view text);

// ASCII lower-casing (GUC and keyword names are ASCII).
std::string ascii_lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);

}  // namespace pgopt::sql::detail

namespace pgopt::sql::detail {

// EXPLAIN executes its statement only with ANALYZE (an ANALYZE option that is absent, true, on ...).
bool explain_executes(const PgQuery__ExplainStmt* stmt);

// Statement text as a libpg_query statement slice gives it, minus surrounding blanks and the
// trailing semicolon, ready to be sent again on its own.
std::string_view trim_statement(std::string_view text);

}  // namespace pgopt::sql::detail
