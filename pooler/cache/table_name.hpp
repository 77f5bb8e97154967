// The name a table is indexed and invalidated by: its relation name without the schema.
//
// Why drop the schema: a statement names `orders` and search_path decides whether that is
// public.orders or app.orders, while a writer may say `app.orders`. Comparing full names would miss
// that invalidation; comparing bare names can only invalidate a same-named table in another schema
// too, which costs a refill and is never wrong.
#pragma once

#include <string_view>

namespace pgopt::pooler::cache {

// "app.orders" -> "orders", "orders" -> "orders", "\"Audit\".\"Log\""-style names arrive already
// unquoted from sql/ ("Audit.Log" -> "Log"). A dot inside a quoted name (rare) only makes the key
// shorter: still a superset of the real matches.
inline std::string_view table_key(std::string_view name) {
  size_t dot = name.rfind('.');
  return dot == std::string_view::npos ? name : name.substr(dot + 1);
}

}  // namespace pgopt::pooler::cache
