// The lexical gates before sql::analyze(), for the differential test only (prefilter_reference.cpp).
#pragma once

#include <string>
#include <string_view>

namespace pgopt::sql::reference {

bool may_have_session_effects(std::string_view sql);
bool may_write_tables(std::string_view sql);
bool may_have_cursor_commands(std::string_view sql);
bool may_be_prepared_command(std::string_view sql);
bool mentions_statement_view(std::string_view sql);
bool mentions_pg_settings(std::string_view sql);
bool calls_sequence_function(std::string_view sql);
bool literal_free_key(std::string_view sql, std::string& out);

}  // namespace pgopt::sql::reference
