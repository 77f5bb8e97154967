// Internal to sql/: owns one libpg_query protobuf parse and its unpacked tree. Never include it
// from outside sql/ (the parser's node types must not leak past this adapter).
#pragma once

#include <pg_query.h>
#include <pg_query.pb-c.h>

#include <string>
#include <string_view>

#include "sql/parser.hpp"

namespace pgopt::sql::detail {

class ParseTree {
 public:
  explicit ParseTree(std::string_view sql) {
    std::string text(sql);  // libpg_query needs a NUL-terminated string
    raw_ = pg_query_parse_protobuf(text.c_str());
    if (raw_.error) {
      error_.message = raw_.error->message ? raw_.error->message : "parse error";
      error_.cursor = raw_.error->cursorpos;
      return;
    }
    tree_ = pg_query__parse_result__unpack(nullptr, raw_.parse_tree.len,
                                           reinterpret_cast<const uint8_t*>(raw_.parse_tree.data));
    if (!tree_) error_.message = "could not unpack parse tree";
  }
  ~ParseTree() {
    if (tree_) pg_query__parse_result__free_unpacked(tree_, nullptr);
    pg_query_free_protobuf_parse_result(raw_);
  }
  ParseTree(const ParseTree&) = delete;
  ParseTree& operator=(const ParseTree&) = delete;

  bool ok() const { return tree_ != nullptr; }
  const ParseError& error() const { return error_; }
  size_t statement_count() const { return tree_ ? tree_->n_stmts : 0; }
  const PgQuery__RawStmt* statement(size_t i) const { return tree_->stmts[i]; }
  // The statement's own text (libpg_query gives offsets into the original string).
  std::string_view statement_text(std::string_view sql, size_t i) const {
    const auto* s = tree_->stmts[i];
    size_t begin = size_t(s->stmt_location);
    size_t len = s->stmt_len ? size_t(s->stmt_len) : sql.size() - begin;
    if (begin > sql.size()) return {};
    return sql.substr(begin, len);
  }

 private:
  PgQueryProtobufParseResult raw_{};
  PgQuery__ParseResult* tree_ = nullptr;
  ParseError error_;
};

}  // namespace pgopt::sql::detail
