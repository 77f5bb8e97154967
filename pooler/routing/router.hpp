// Read/write routing, PgCat-style: one statement's text and its client's state in, a decision out
// (primary or replica, with a reason), plus the pooler's own controls (hints, SET pgopt.route).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pooler/routing/hints.hpp"
#include "sql/classify.hpp"
#include "sql/transaction_modes.hpp"

namespace pgopt::pooler::routing {

// The session's pgopt.route setting.
enum class Route { Auto, Primary, Replica };
std::string_view to_string(Route r);                     // "auto", "primary", "replica"
std::optional<Route> parse_route(std::string_view text);  // case-insensitive, surrounding blanks ok

enum class Target {
  Primary,
  Replica,  // a replica of the caller's choosing (health, lag, read-your-writes are the caller's)
  Current,  // inside a transaction block: the server the transaction already runs on
};
std::string_view to_string(Target t);

// Why a decision was made (static text via to_string(), so deciding allocates nothing).
enum class Reason {
  Read,                  // a read outside a transaction block
  Write,                 // writes, or might (classification reasons say what)
  Utility,               // VACUUM, ANALYZE, CHECKPOINT ...: maintenance runs on the primary
  SessionState,          // SET, LISTEN, PREPARE, DISCARD ...
  ReadOnlyTransaction,   // BEGIN READ ONLY and the like
  ReadWriteTransaction,  // any other explicit transaction
  TransactionControl,    // COMMIT, SAVEPOINT ... outside a block, two-phase commit, snapshot import
  Serializable,          // SERIALIZABLE isolation: a hot standby refuses it
  HeldCursor,            // FETCH/MOVE/CLOSE outside a block: a WITH HOLD cursor, on the primary
  ParseFailed,           // the primary reports the syntax error
  HintPrimary,           // /* pgopt:primary */
  HintReplica,           // /* pgopt:replica */
  RoutePrimary,          // SET pgopt.route = 'primary'
  RouteReplica,          // SET pgopt.route = 'replica'
  InTransaction,         // inside a transaction block: not routed
  PoolerSetting,         // SET/RESET/SHOW pgopt.*, answered by the pooler
  BadHint,               // an unknown or contradictory hint
};
std::string_view to_string(Reason r);

struct RouterOptions {
  // As sql::ClassifierOptions (names "fn" or "schema.fn"; see sql/README.md).
  std::vector<std::string> write_functions;
  std::vector<std::string> read_only_functions;
  bool unknown_functions_are_reads = false;
  size_t cache_capacity = 10000;  // classified statements kept (LRU by exact text)
};

// What the caller knows about the client; the router keeps no per-client state.
struct ClientState {
  // A transaction block is open on a server (ReadyForQuery said 'T' or 'E'). The router then only
  // strips hints and answers pgopt settings; everything else stays on the transaction's server.
  bool in_transaction = false;
  // The caller answered a bare BEGIN itself and has not sent it yet, so this statement, the first
  // of the transaction, decides where the transaction runs (SET TRANSACTION READ ONLY at its start
  // makes it read-only). The caller prepends the BEGIN when it sends the statement.
  bool begin_pending = false;
  // The client's default_transaction_read_only is on: a plain BEGIN is read-only.
  bool default_read_only = false;
  // The client's default_transaction_isolation is serializable: a hot standby would refuse its
  // reads, so in auto mode everything goes to the primary.
  bool default_serializable = false;
  Route route = Route::Auto;  // the session's pgopt.route
};

struct RouteError {
  std::string sqlstate;  // "25006", "22023", "42704", "42601", "0A000"
  std::string message;
  std::string detail;  // may be empty
  std::string hint;    // may be empty
};

struct Decision {
  enum class Action {
    Forward,  // send the statement (rewritten, when set) to `target`
    Consume,  // answer it from the pooler: CommandComplete `command_tag`, never forwarded
    Fail,     // answer `error`; nothing is sent
  };
  Action action = Action::Forward;
  Target target = Target::Primary;
  Reason reason = Reason::Write;
  Hint hint = Hint::None;  // the statement's hint, whatever the decision
  // The text to send instead of the client's: set when hints were blanked out.
  std::optional<std::string> rewritten;
  // Consume: "SET", "RESET" or "SHOW". For SET/RESET, new_route is the session's route from now
  // on (SET pgopt.route is not transactional: it holds even if the transaction rolls back). For
  // SHOW the caller sends a one-column ("pgopt.route", text) row holding show_value, then
  // CommandComplete "SHOW".
  std::string_view command_tag;
  std::optional<Route> new_route;
  std::string_view show_value;
  RouteError error;  // Fail
  // The classification behind a Forward outside a transaction; valid until the next decide().
  const sql::Classification* classification = nullptr;

  // The decision follows a hint or the session's pgopt.route rather than the statement itself.
  bool forced() const;
};

// One per worker thread: it owns a classification cache and is not thread-safe.
//
// Outside a transaction block (rules in pooler/routing/README.md): a read goes to a replica;
// writes, maintenance, session state and unparsable text go to the primary; BEGIN READ ONLY /
// START TRANSACTION READ ONLY (or a plain BEGIN with default_transaction_read_only on, or
// SET TRANSACTION READ ONLY at the transaction's start) may go to a replica, any other transaction
// to the primary. The caller keeps an open transaction on the server it started on: inside a
// block the answer is Target::Current. A hint or pgopt.route overrides this; a replica hint (or
// route) on a statement that certainly writes is refused with 25006.
class Router {
 public:
  explicit Router(RouterOptions options);
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // `sql` is a simple Query's text or a Parse's text; a multi-statement string is decided as one.
  Decision decide(std::string_view sql, const ClientState& client);

  const sql::ClassifierCache& cache() const { return cache_; }

 private:
  void route_auto(std::string_view text, size_t body, const sql::Classification& c, const ClientState& client,
                  Decision& d);
  void route_transaction(std::string_view text, const sql::Classification& c, const ClientState& client,
                         Decision& d);
  const sql::TransactionSteps& steps_for(std::string_view text);

  sql::ClassifierCache cache_;
  // Transaction statements of the few distinct BEGIN ... strings an application sends; cleared
  // when full rather than kept in LRU order, since it holds so few.
  struct TextHash {
    using is_transparent = void;  // find() by string_view, without building a std::string
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, sql::TransactionSteps, TextHash, std::equal_to<>> steps_cache_;
  static constexpr size_t kStepsCacheCapacity = 256;
};

}  // namespace pgopt::pooler::routing
