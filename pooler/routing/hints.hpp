// The pooler's statement hints, /* pgopt:primary */ and /* pgopt:replica */, found by a lexical scan
// of the comments before a statement's first token, and blanked out before the text is sent.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgopt::pooler::routing {

enum class Hint { None, Primary, Replica };

struct HintScan {
  Hint hint = Hint::None;
  // Byte ranges [begin, end) of the hint comments, to blank out before sending.
  std::vector<std::pair<size_t, size_t>> ranges;
  // Offset of the first token: everything before it is whitespace and comments.
  size_t body = 0;
  // A leading comment that reads "pgopt:<something else>", or two hints that disagree. The
  // statement must be refused: routing it some other way than its author meant would be worse.
  std::string error;
};

// Scans only the leading whitespace and comments (-- to end of line, /* */ with nesting, as
// PostgreSQL's scanner does); a hint later in the text is an ordinary comment. A hint comment's
// content is "pgopt", ":" and "primary" or "replica", case-insensitive, with optional whitespace
// around each part. An unterminated comment ends the scan (the server will report it).
HintScan scan_hints(std::string_view sql);

// The text with each hint comment replaced by spaces (line breaks kept), so every other byte keeps
// its offset and the server's error positions still point at the client's text.
std::string blank_hints(std::string_view sql, const HintScan& scan);

// The word (letters, digits, _) starting at `offset`, as written; empty when none starts there.
std::string_view first_word(std::string_view sql, size_t offset);

// ASCII case-insensitive comparison with a lower-case word.
bool word_is(std::string_view word, std::string_view lower_case);

}  // namespace pgopt::pooler::routing
