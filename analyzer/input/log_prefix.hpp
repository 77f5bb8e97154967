// log_line_prefix: compiles PostgreSQL's escapes (%m, %p, %q, padding like %-10u ...) into a matcher.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgopt::analyzer::input {

enum class Severity : uint8_t {
  none,
  debug, info, notice, log, warning, error, fatal, panic,      // primary: start a log entry
  detail, hint, context, statement, query, location,           // secondary: belong to the previous one
};
inline bool is_secondary(Severity s) { return s >= Severity::detail; }

// "LOG", "ERROR" ... as csvlog and jsonlog write the severity (no colon); Severity::none if unknown.
Severity severity_from_word(std::string_view word);
// "LOG:  " style marker at the start of `text`; returns the severity and sets `len` to the marker's
// length (word, colon and the two spaces PostgreSQL writes), or Severity::none.
Severity parse_severity(std::string_view text, size_t* len);

struct PrefixMatch {
  std::string_view timestamp;   // %m, %t or %n as written
  std::string_view pid;         // %p
  std::string_view session_id;  // %c
  std::string_view user, database, application;
  Severity severity = Severity::none;
  size_t severity_offset = 0;   // where "LOG:  " starts (the prefix's length)
  bool stopped_at_q = false;    // a non-session line: the prefix ended at %q
  size_t message_offset = 0;    // where the text after "LOG:  " starts
};

class LogLinePrefix {
 public:
  // Compiles a log_line_prefix setting; never fails (unknown escapes print nothing in PostgreSQL).
  static LogLinePrefix compile(std::string_view spec);
  // Anchors on the severity marker instead of a known prefix: the fallback when detection fails.
  static LogLinePrefix generic();

  // True when `line` starts with this prefix followed by a severity marker.
  bool match(std::string_view line, PrefixMatch& m) const;

  const std::string& spec() const { return spec_; }
  bool is_generic() const { return generic_; }
  bool has_pid() const { return has_pid_; }
  bool has_session_id() const { return has_session_; }
  size_t item_count() const { return items_.size(); }

 private:
  struct Item {
    char esc = 0;      // 0: literal text
    int pad = 0;       // %-10u -> -10, %10u -> 10
    std::string text;  // literal
  };
  bool match_from(size_t i, std::string_view line, size_t pos, PrefixMatch& m) const;
  bool match_value(const Item& it, size_t i, std::string_view line, size_t pos, PrefixMatch& m) const;
  bool finish(std::string_view line, size_t pos, PrefixMatch& m) const;
  bool match_generic(std::string_view line, PrefixMatch& m) const;

  std::string spec_;
  std::vector<Item> items_;
  bool generic_ = false;
  bool has_pid_ = false;
  bool has_session_ = false;
};

// FNV-1a of a session identifier (pid or %c) so sessions key hash maps without owning strings.
uint64_t session_key(std::string_view id);

}  // namespace pgopt::analyzer::input
