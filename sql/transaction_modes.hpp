// The transaction statements of a query string in order, with the modes they ask for, so a router
// can tell a READ ONLY transaction (fit for a hot standby) from a read-write or serializable one.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace pgopt::sql {

struct TransactionStep {
  enum class Kind {
    Query,           // any statement that is not transaction control
    Begin,           // BEGIN / START TRANSACTION
    End,             // COMMIT / END / ROLLBACK / ABORT (with `chain` for ... AND CHAIN)
    SetTransaction,  // SET TRANSACTION ..., SET [LOCAL] transaction_read_only/_isolation/_deferrable
    Neutral,         // SAVEPOINT, RELEASE, ROLLBACK TO, SET CONSTRAINTS: no effect on the modes
    PrimaryOnly,     // PREPARE TRANSACTION, COMMIT/ROLLBACK PREPARED, SET TRANSACTION SNAPSHOT
  };
  Kind kind = Kind::Query;
  std::optional<bool> read_only;  // Begin/SetTransaction: READ ONLY (true), READ WRITE (false)
  bool serializable = false;      // Begin/SetTransaction: ISOLATION LEVEL SERIALIZABLE
  bool chain = false;             // End: AND CHAIN starts the next transaction at once
};

struct TransactionSteps {
  bool parse_failed = false;
  std::vector<TransactionStep> steps;  // one per statement
};

TransactionSteps transaction_steps(std::string_view sql);

// BEGIN, BEGIN WORK/TRANSACTION, START TRANSACTION (any case, `;` and white space around), with
// no options, comments or other statements: a text scan, no parse. Such a query changes nothing
// a later statement could not redo: a pooler may answer it itself, or run it again elsewhere.
bool is_bare_begin(std::string_view sql);

}  // namespace pgopt::sql
