// The text of a LOG message: which statement it reports (if any), its duration, and bind parameters.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgopt::analyzer::input {

enum class MessageKind {
  other,          // anything that is not a statement report (checkpoints, auto_explain plans ...)
  statement,      // "statement: ..." (simple protocol)
  execute,        // "execute <name>: ..." (extended protocol; parameters come in the DETAIL)
  parse_or_bind,  // "parse <name>: ..." / "bind <name>: ...": steps of an execute, not calls
  lone_duration,  // "duration: X ms" alone (log_duration): belongs to the session's last statement
  disconnection,  // "disconnection: ...": the session ended
};

struct ClassifiedMessage {
  MessageKind kind = MessageKind::other;
  std::optional<double> duration_ms;
  std::string_view text;  // the statement
};

ClassifiedMessage classify_message(std::string_view message);

// Parses "parameters: $1 = '42', $2 = NULL" into values[0], values[1] ... (quoted as logged).
// Returns false when `detail` is not a parameter list.
bool parse_parameters(std::string_view detail, std::vector<std::string_view>& values);

// Appends `sql` to `out` with each $n outside quotes and comments replaced by values[n-1];
// `detab` drops the TAB that stderr logs put after each newline inside a message.
void substitute_parameters(std::string_view sql, const std::vector<std::string_view>& values, bool detab,
                           std::string& out);

// Appends `text` to `out` without the TAB that follows each newline in stderr messages.
void append_detabbed(std::string_view text, std::string& out);

}  // namespace pgopt::analyzer::input
