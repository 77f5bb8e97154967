// One lexical analysis per statement text for the relay (issue 16): every question the pooler asks of
// a statement before deciding whether to parse it, answered by ONE scan that also builds the
// literal-free cache key. Consumers (session effects, writes, WITH HOLD cursors, the prepared
// tracker, the router's ClassifierCache, the result cache's CacheFactsMemo, capture) read it
// instead of scanning again.
//
// The scan (statement_info.cpp) follows PostgreSQL's lexer with standard_conforming_strings on, as
// libpg_query does: '...' (doubled quotes), E'...' (backslash escapes), "..." identifiers, $n
// parameters, $tag$...$tag$ bodies, -- and nested /* */ comments, numbers, words.
//
// Marks. Each is a safety gate: false means "certainly not", true only "maybe, ask the parser".
//   SessionEffects  never false when session_effects() reports anything: the words set (except
//                   after an `update` outside literals and comments in the same ;-stretch: UPDATE
//                   ... SET, since a SET statement is a statement's first token), reset, listen,
//                   load, discard, prepare, hold, call, execute, function, procedure, trigger, rule;
//                   do as a statement's first word (or anywhere inside a literal or comment); any
//                   word containing temp, advisory or set_config; U&"; a call (word, then `(` after
//                   blanks and comments) of anything but a pg_catalog built-in (the word not a
//                   keyword that takes parentheses, nor the table of INSERT INTO); a quoted name
//                   called; an unclosed quote, comment or $$ body; any text over
//                   kMaxAnalyzedLength. Words inside literals, comments and $$ bodies are checked
//                   too (`do` always counting, `set` unless after an uncommented `update`; `"` then
//                   `(` counts as a call), so a lexing slip can only cost a parse.
//   WritesTables    the whole words insert, update, delete, merge, copy, truncate anywhere; any
//                   text over kMaxAnalyzedLength.
//   CursorCommand   hold, close or discard anywhere in the text (inside words too).
//   PreparedCommand prepare, execute or deallocate anywhere in the text (inside words too).
//   StatementView   pg_prepared_statements anywhere.
//   PgSettings      pg_settings anywhere.
//   SequenceCall    nextval or setval anywhere.
// "Anywhere", in any ASCII case, inside literals, identifiers and comments included. Each pattern
// is made of word bytes ([A-Za-z0-9_] and non-ASCII), so it can only occur inside one maximal run
// of them: checking every run of the text is exactly the old substring search.
//
// Key (literal_free_key()): the text with each numeric literal and plain '...' string replaced by
// `?`, prefixed with \x01; none for E'', B'', X'', U&'' and $$ strings, an unterminated quote or
// comment, a number run into a word, a \x01 byte, or the words EXPLAIN, set_config and
// transaction_read_only (whose literal arguments change the classification).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pgopt::sql {

enum class Mark : uint16_t {
  SessionEffects = 1 << 0,
  WritesTables = 1 << 1,
  CursorCommand = 1 << 2,
  PreparedCommand = 1 << 3,
  StatementView = 1 << 4,
  PgSettings = 1 << 5,
  SequenceCall = 1 << 6,
};

class StatementInfo {
 public:
  bool may(Mark m) const { return (marks_ & static_cast<uint16_t>(m)) != 0; }
  uint16_t marks() const { return marks_; }
  // The literal-free key; empty when the text has none (see above).
  bool keyed() const { return keyed_; }
  std::string_view key() const { return keyed_ ? std::string_view(key_) : std::string_view(); }

 private:
  friend class StatementScanner;
  uint16_t marks_ = 0;
  bool keyed_ = false;
  std::string key_;  // reused from one analysis to the next
};

// One scan of `sql` into `out` (its key buffer is reused: no allocation once it is large enough).
void analyze(std::string_view sql, StatementInfo& out);

// The analysis of `sql`, computed once per text per thread: the relay's consumers of one statement
// each call this and all but the first get the kept result for a compare of the text. The reference
// stays valid until the next analyze() of another text on this thread.
const StatementInfo& analyze(std::string_view sql);

}  // namespace pgopt::sql
