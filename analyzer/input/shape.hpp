// A statement's lexical shape: one pass that drops what libpg_query's fingerprint ignores, so equal
// shapes imply equal fingerprints and libpg_query runs once per distinct shape, not per statement.
#pragma once

#include <string>
#include <string_view>

namespace pgopt::analyzer::input {

// Writes the shape of `sql` into `out` (cleared first; its capacity is reused):
//  - comments dropped, whitespace runs (including the TABs stderr logs insert) collapsed to one space,
//    trailing spaces and semicolons dropped;
//  - ASCII letters outside quotes lower-cased (the parser folds unquoted identifiers and keywords);
//  - in DML statements (SELECT/INSERT/UPDATE/DELETE/WITH/VALUES/TABLE/MERGE) numeric and string
//    constants become '?': libpg_query ignores A_Const nodes there. Elsewhere (SET, DDL, COPY...)
//    constants can be part of the fingerprint (fillfactor=70, COPY 'file') and are kept verbatim.
// Returns false when the text is not lexically complete (an unterminated quote or comment).
bool statement_shape(std::string_view sql, std::string& out);

}  // namespace pgopt::analyzer::input
