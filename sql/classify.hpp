// Read/write classification of SQL for read/write splitting: which statements may go to a replica.
#pragma once

#include <cstddef>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sql/text_memo.hpp"

namespace pgopt::sql {

// Routing meaning (see sql/README.md for the full rules):
//   Read               may run on a replica
//   Write              must run on the primary (data, DDL, locks, sequences, unknown functions ...)
//   TransactionControl BEGIN/COMMIT/...; `tx` says which
//   SessionState       SET/RESET/LISTEN/DISCARD/PREPARE/DEALLOCATE/LOAD: the pooler's business
//   Utility            VACUUM/ANALYZE/CHECKPOINT/REINDEX/CLUSTER: maintenance, runs on the primary
enum class StatementKind { Read, Write, TransactionControl, SessionState, Utility };

enum class TxControl {
  None,
  Begin,
  BeginReadOnly,
  Commit,
  Rollback,
  Savepoint,
  Release,
  RollbackTo,
  SetTransactionReadOnly,
  SetTransactionReadWrite,
  Prepare2pc,
  Other,  // SET TRANSACTION ISOLATION/SNAPSHOT, SET CONSTRAINTS, COMMIT/ROLLBACK PREPARED
};

struct Classification {
  StatementKind kind = StatementKind::Read;
  // For a multi-statement string: the last transaction-control statement, i.e. the one that
  // decides the transaction state after the string has run.
  TxControl tx = TxControl::None;
  bool parse_failed = false;
  // Short human reasons: "INSERT", "calls nextval()", "SELECT ... FOR UPDATE", "DML in CTE",
  // "calls unknown function app.foo()". Empty for a plain read.
  std::vector<std::string> reasons;
};

struct ClassifierOptions {
  // Function names, "name" or "schema.name". A qualified entry matches calls with exactly that
  // schema; an unqualified entry matches the name in any schema. For write_functions an
  // unqualified call also matches a qualified entry of the same name (search_path may lead there).
  std::vector<std::string> write_functions;      // always writes, even if the name is a built-in
  std::vector<std::string> read_only_functions;  // user functions known to only read
  bool unknown_functions_are_reads = false;      // default: a user function might write
};

// Classifies the whole string; with several statements the strongest kind wins
// (Write > Utility > SessionState > TransactionControl > Read). A string that does not parse is a
// Write with parse_failed set (the primary will report the error).
Classification classify(std::string_view sql, const ClassifierOptions& options);

std::string_view to_string(StatementKind kind);
std::string_view to_string(TxControl tx);

// Bounded LRU cache of classify() by exact statement text. Not thread-safe: one per worker thread.
// The cache key of a statement whose classification cannot depend on its literals: the text with
// each numeric literal and plain '...' string replaced by `?`, prefixed with \x01 (so it never
// equals a real statement's text). False, and `out` unspecified, when literals might matter or the
// text is not simple to scan: E'', B'', X'', U&'' and $$ strings, an unterminated quote or comment,
// a number run into a word (PostgreSQL 15 rejects 1abc), or the words EXPLAIN, set_config and
// transaction_read_only (whose option and argument values the classification reads).
bool literal_free_key(std::string_view sql, std::string& out);

class ClassifierCache {
 public:
  explicit ClassifierCache(ClassifierOptions options, size_t capacity = 10000);
  ClassifierCache(const ClassifierCache&) = delete;
  ClassifierCache& operator=(const ClassifierCache&) = delete;

  // The reference stays valid until the next classify() call on this cache. Keyed by
  // literal_free_key() where it applies (so `WHERE id = 1` and `WHERE id = 2` share an entry, and an
  // application that inlines its values still hits), else by the exact text (text_memo.hpp).
  const Classification& classify(std::string_view sql);

  size_t hits() const { return memo_.hits(); }
  size_t misses() const { return memo_.misses(); }
  size_t size() const { return memo_.size(); }
  size_t capacity() const { return memo_.capacity(); }

  // Statements longer than this are classified but not kept (they are rarely repeated verbatim
  // and would crowd out the short ones).
  static constexpr size_t kMaxCachedLength = 16 * 1024;

 private:
  ClassifierOptions options_;
  TextMemo<Classification> memo_;
  std::string key_;  // reused for literal_free_key()
  Classification uncached_;
};

}  // namespace pgopt::sql
