// Descriptor-driven walk over libpg_query's protobuf tree and the shared node readers.
#include "sql/tree_walk.hpp"

#include <cctype>
#include <cstdint>
#include <vector>

namespace pgopt::sql::detail {
namespace {

template <class T>
T field_at(const ProtobufCMessage* m, unsigned offset) {
  return *reinterpret_cast<const T*>(reinterpret_cast<const char*>(m) + offset);
}

const ProtobufCFieldDescriptor* node_field(const ProtobufCMessageDescriptor* d, unsigned id) {
  // Node's oneof fields are numbered 1..n in declaration order; fall back to the library's search
  // should a future libpg_query leave gaps.
  if (id >= 1 && id <= d->n_fields && d->fields[id - 1].id == id) return &d->fields[id - 1];
  return protobuf_c_message_descriptor_get_field(d, id);
}

}  // namespace

void walk_nodes(const ProtobufCMessage* root, NodeVisitFn fn, void* ctx) {
  if (!root) return;
  // An explicit stack: expression trees from generated SQL can be thousands of levels deep.
  std::vector<const ProtobufCMessage*> stack;
  stack.reserve(64);
  stack.push_back(root);
  while (!stack.empty()) {
    const ProtobufCMessage* m = stack.back();
    stack.pop_back();
    const ProtobufCMessageDescriptor* d = m->descriptor;
    if (d == &pg_query__node__descriptor) {
      const auto* node = reinterpret_cast<const PgQuery__Node*>(m);
      if (node->node_case == PG_QUERY__NODE__NODE__NOT_SET) continue;
      if (!fn(ctx, node)) continue;
      const ProtobufCFieldDescriptor* f = node_field(d, unsigned(node->node_case));
      if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
        if (const auto* child = field_at<const ProtobufCMessage*>(m, f->offset)) stack.push_back(child);
      }
      continue;
    }
    // Push in reverse so children come off the stack in field order.
    for (unsigned i = d->n_fields; i-- > 0;) {
      const ProtobufCFieldDescriptor& f = d->fields[i];
      if (f.type != PROTOBUF_C_TYPE_MESSAGE) continue;
      if (f.flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        if (field_at<uint32_t>(m, f.quantifier_offset) != f.id) continue;
        if (const auto* child = field_at<const ProtobufCMessage*>(m, f.offset)) stack.push_back(child);
      } else if (f.label == PROTOBUF_C_LABEL_REPEATED) {
        size_t n = field_at<size_t>(m, f.quantifier_offset);
        auto* const* items = field_at<ProtobufCMessage* const*>(m, f.offset);
        for (size_t k = n; k-- > 0;) {
          if (items[k]) stack.push_back(items[k]);
        }
      } else if (const auto* child = field_at<const ProtobufCMessage*>(m, f.offset)) {
        stack.push_back(child);
      }
    }
  }
}

std::string_view string_value(const PgQuery__Node* node) {
  if (node && node->node_case == PG_QUERY__NODE__NODE_STRING && node->string && node->string->sval)
    return node->string->sval;
  return {};
}

std::string QualifiedName::display() const {
  if (schema.empty()) return std::string(name);
  std::string out(schema);
  out += '.';
  out += name;
  return out;
}

QualifiedName qualified_name(PgQuery__Node* const* parts, size_t n) {
  QualifiedName q;
  if (n == 0) return q;
  q.name = string_value(parts[n - 1]);
  if (n >= 2) q.schema = string_value(parts[n - 2]);
  return q;
}

namespace {

// Unwraps casts to a text type: 'x'::text and CAST(5 AS varchar) are still constants for a text
// parameter. Casts to anything else are left alone (their text form is the type's business).
const PgQuery__Node* strip_text_casts(const PgQuery__Node* node) {
  while (node && node->node_case == PG_QUERY__NODE__NODE_TYPE_CAST && node->type_cast) {
    const PgQuery__TypeName* t = node->type_cast->type_name;
    if (!t || t->n_names == 0) return node;
    std::string_view type = string_value(t->names[t->n_names - 1]);
    // varchar(n) and char(n) would change the value; only length-free text types are transparent.
    bool transparent = type == "text" || (type == "varchar" && t->n_typmods == 0);
    if (!transparent) return node;
    node = node->type_cast->arg;
  }
  return node;
}

}  // namespace

std::optional<std::string> constant_text(const PgQuery__Node* node, bool* is_null) {
  if (is_null) *is_null = false;
  node = strip_text_casts(node);
  if (!node || node->node_case != PG_QUERY__NODE__NODE_A_CONST || !node->a_const) return std::nullopt;
  const PgQuery__AConst* c = node->a_const;
  if (c->isnull) {
    if (is_null) *is_null = true;
    return std::string();
  }
  switch (c->val_case) {
    case PG_QUERY__A__CONST__VAL_SVAL:
      return std::string(c->sval && c->sval->sval ? c->sval->sval : "");
    case PG_QUERY__A__CONST__VAL_IVAL:
      return std::to_string(c->ival ? c->ival->ival : 0);
    case PG_QUERY__A__CONST__VAL_FVAL:
      return std::string(c->fval && c->fval->fval ? c->fval->fval : "");
    case PG_QUERY__A__CONST__VAL_BOOLVAL:
      return std::string(c->boolval && c->boolval->boolval ? "true" : "false");
    default:
      return std::nullopt;  // bit strings and the like: not something a GUC takes
  }
}

std::optional<bool> constant_bool(const PgQuery__Node* node, bool* is_null) {
  if (is_null) *is_null = false;
  // 'off'::boolean is as constant as off.
  if (node && node->node_case == PG_QUERY__NODE__NODE_TYPE_CAST && node->type_cast) {
    const PgQuery__TypeName* t = node->type_cast->type_name;
    std::string_view type = t && t->n_names ? string_value(t->names[t->n_names - 1]) : "";
    if (type == "bool" || type == "boolean") node = node->type_cast->arg;
  }
  if (!node || node->node_case != PG_QUERY__NODE__NODE_A_CONST || !node->a_const) return std::nullopt;
  const PgQuery__AConst* c = node->a_const;
  if (c->isnull) {
    if (is_null) *is_null = true;
    return false;
  }
  if (c->val_case == PG_QUERY__A__CONST__VAL_BOOLVAL) return c->boolval && c->boolval->boolval;
  if (c->val_case == PG_QUERY__A__CONST__VAL_SVAL && c->sval && c->sval->sval)
    return parse_bool_text(c->sval->sval);
  return std::nullopt;
}

std::optional<bool> parse_bool_text(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  auto prefix_of = [&](std::string_view word) {
    return text.size() <= word.size() && iequals(text, word.substr(0, text.size()));
  };
  // Same table as PostgreSQL's parse_bool_with_len: "o" alone is ambiguous (on/off).
  if (prefix_of("true") || prefix_of("yes")) return true;
  if (prefix_of("false") || prefix_of("no")) return false;
  if (text.size() >= 2 && prefix_of("on")) return true;
  if (text.size() >= 2 && prefix_of("off")) return false;
  if (text == "1") return true;
  if (text == "0") return false;
  return std::nullopt;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = char(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = char(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace pgopt::sql::detail

namespace pgopt::sql::detail {

bool explain_executes(const PgQuery__ExplainStmt* stmt) {
  if (!stmt) return false;
  bool analyze = false;
  for (size_t i = 0; i < stmt->n_options; ++i) {
    const PgQuery__Node* opt = stmt->options[i];
    if (!opt || opt->node_case != PG_QUERY__NODE__NODE_DEF_ELEM || !opt->def_elem) continue;
    const PgQuery__DefElem* d = opt->def_elem;
    if (!d->defname || std::string_view(d->defname) != "analyze") continue;
    if (!d->arg) {
      analyze = true;  // EXPLAIN ANALYZE / EXPLAIN (ANALYZE)
      continue;
    }
    if (d->arg->node_case == PG_QUERY__NODE__NODE_STRING) {
      // PostgreSQL rejects a non-boolean here; assume it runs so a caller errs on the safe side.
      analyze = parse_bool_text(string_value(d->arg)).value_or(true);
    } else if (d->arg->node_case == PG_QUERY__NODE__NODE_INTEGER && d->arg->integer) {
      analyze = d->arg->integer->ival != 0;
    } else if (d->arg->node_case == PG_QUERY__NODE__NODE_BOOLEAN && d->arg->boolean) {
      analyze = d->arg->boolean->boolval;
    } else {
      analyze = true;
    }
  }
  return analyze;
}

std::string_view trim_statement(std::string_view text) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && (blank(text.back()) || text.back() == ';')) text.remove_suffix(1);
  return text;
}

}  // namespace pgopt::sql::detail
