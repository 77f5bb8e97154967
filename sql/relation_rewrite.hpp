// Replacing the references to one relation in a statement string by a subquery, so a pooler can
// show a client its own view of a catalog view (pg_prepared_statements).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pgopt::sql {

// Every FROM-clause reference to `name` (unqualified, or qualified with `schema`) becomes
// `(subquery)`, aliased as `name` unless the reference has an alias of its own, so column
// references keep working. nullopt when there is no such reference (or the string does not parse).
std::optional<std::string> replace_relation(std::string_view sql, std::string_view schema, std::string_view name,
                                            std::string_view subquery);

}  // namespace pgopt::sql
