// One client's prepared statements in transaction mode: its names, the rewriting of its messages
// onto the shared server-side statements, and the server replies that rewriting adds or changes.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pooler/prepared/server_statements.hpp"
#include "pooler/prepared/statement_registry.hpp"
#include "pooler/protocol/codec.hpp"

namespace pgopt::pooler::prepared {

// What the relay does with one server message.
enum class ReplyAction : uint8_t {
  Forward,  // pass it to the client as it is
  Skip,     // an answer to something the pooler injected: the client never asked
  Replace,  // send `replacement` instead
  Desync,   // the server answered something nobody asked: close the server connection
  // Drop this reply (a ReadyForQuery) and send the client's messages in `replacement` to the server
  // again through replay(): their statement was retired ("cached plan must not change result
  // type") before any reply reached the client, outside any transaction block.
  Retry,
};
struct ReplyDecision {
  ReplyAction action = ReplyAction::Forward;
  std::string_view replacement;
};

// Socket-free, like the codec: the client relay feeds it each message on its way to the server,
// the server relay each reply on its way back, and it keeps the two in step.
//
// How replies stay exactly what the client expects, in order: the tracker never answers on the
// server's behalf out of band. Every client message that needs an answer the server would not give
// under the rewritten names becomes a real message whose reply is then swapped:
//   - Parse of a statement the server already has  -> Close of a name that never exists, whose
//     CloseComplete becomes the ParseComplete;
//   - Close of a client's statement               -> the same harmless Close (the shared statement
//     stays for everyone else), CloseComplete passed through;
//   - Parse of a name the client already uses     -> a Parse the server rejects, whose error becomes
//     PostgreSQL's 42P05;
//   - Bind/Describe of a name the client never prepared -> the same message naming a statement
//     that never exists, whose 26000 error is given the client's name;
//   - DEALLOCATE name / DEALLOCATE ALL            -> an empty query whose EmptyQueryResponse
//     becomes the command's CommandComplete; so does PREPARE of a text the server already has.
//   - use of a shared statement whose server copy was prepared before the database's schema last
//     changed (DROP/ALTER, or a rolled-back CREATE, reported by any server of that database; see
//     server_statements.hpp) -> Close of that copy and a fresh Parse under the same name ahead of
//     the message, both replies skipped. This is what keeps a statement that names a dropped type
//     from failing inside a transaction block, where a retry is no longer possible.
// SQL-level PREPARE and EXECUTE (single-statement queries) are rewritten onto the shared names too;
// their statements share the client's name space with protocol-level ones, as in PostgreSQL.
// PREPARE, EXECUTE and DEALLOCATE [ALL] that arrive as the text of an unnamed Parse (libpq sends
// any query with parameters so; psycopg's statement cache evicts with `DEALLOCATE name`) act on the
// client's names the same way, the effect taking place when their Execute is sent
// (sql_commands.cpp). Server-side names are the pooler's: wherever a client's text would reach the
// server naming `pgopt_*` (a multi-statement string, any Parse) it fails as PostgreSQL fails for a
// statement the client never prepared, and nothing reaches the shared statement.
// A text that reads pg_prepared_statements reads instead the client's own statements under its own
// names (with the server's details where its current server has them) and nothing of the pooler's
// shared ones, whose texts other clients sent (statement_view.cpp).
// Because these are real messages, PostgreSQL's own rules still decide what runs after an error
// (skip to Sync) and what a failed transaction refuses, and the replies keep their order. After an
// error in an extended-protocol group the server ignores everything up to the next Sync, including
// what the client sends after the error came back (a pipeline, a 5,000-row executemany): such
// messages expect no reply from the moment they are sent.
class Tracker {
 public:
  explicit Tracker(StatementRegistry& registry) : registry_(registry) {}

  // Does this client message need rewriting? False for everything about unnamed statements and
  // portals, so clients that never name a statement relay their bytes untouched.
  static bool needs_rewrite(const protocol::Frame& f);

  // A client with no server that sends only named Parses and Syncs (libpq's PQprepare, pgbench -M
  // prepared) is answered here: a server is needed only once a statement runs. Waiting for one
  // instead could deadlock a client library that prepares synchronously while its other
  // connections hold every server. PostgreSQL's grammar checks the text now (syntax errors come
  // back at once, as from the server); errors that need the catalog come with the first Bind.
  static bool can_answer_locally(std::span<const protocol::Frame> batch);
  void answer_locally(std::span<const protocol::Frame> batch, std::string& reply);

  // Appends what must go to the server for client message `f` (`raw` is its bytes) to `out`, and
  // notes the replies to expect. With `out` null the caller sends `raw` itself (only allowed when
  // needs_rewrite(f) is false). `capacity` is max_prepared_statements.
  void on_client_message(const protocol::Frame& f, std::span<const uint8_t> raw, ServerStatements& server,
                         size_t capacity, std::string* out);

  // For each server message in order; `body` is the whole body for the types the relay must see
  // complete (see needs_body()) and may be empty for the others.
  ReplyDecision on_server_message(char type, std::span<const uint8_t> body, ServerStatements& server);
  // Types whose decision needs the complete message (all are small; while ParseCompletes are held
  // back, the replies that may follow a Parse too, since they carry them).
  bool needs_body(char type) const {
    return type == 'E' || type == 'C' || type == 'Z' || type == '1' || type == '3' || type == 'I' ||
           (!held_.empty() && (type == '2' || type == 't' || type == 'T' || type == 'n'));
  }

  // The server connection is gone or was reset mid-flight: forget the replies still expected.
  void detach() {
    pending_.clear();
    held_.clear();
    held_names_.clear();
    skipping_ = false;
    unnamed_command_.reset();
    portal_command_.reset();
    group_.clear();
    group_retryable_ = true;
    group_forwarded_ = false;
  }
  // The server died before answering anything still pending: undo what those messages assumed,
  // newest first, so the same client messages can be fed again for another server.
  void abandon_all(ServerStatements& server) {
    for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) abandoned(*it, server);
    detach();
  }
  // The text of the client's statement `name` (for routing a Bind), or null.
  const Statement* statement_for(std::string_view name) const {
    auto it = names_.find(name);
    return it == names_.end() ? nullptr : it->second.get();
  }
  // The oldest `n` Syncs still awaiting a reply will get none: the server ignored them (sent during
  // COPY FROM STDIN; see copy_syncs.hpp).
  void ignore_syncs(int n);
  // For ReplyAction::Retry: feeds the client's messages again, appending what goes to the server.
  void replay(std::span<const uint8_t> messages, ServerStatements& server, size_t capacity, std::string& out);
  bool idle() const { return pending_.empty(); }
  // Holds nothing a fresh Tracker would not: a parked client may drop it and make a new one.
  bool blank() const { return names_.empty() && pending_.empty() && group_.empty() && held_.empty() && !replaying_; }
  // DISCARD ALL on the client's session: its names are gone (the server side is cleared by the
  // caller when the command completes).
  void forget_all() { names_.clear(); }
  size_t name_count() const { return names_.size(); }
  // An online takeover (client_takeover.cpp): the client's names with their statements, and the new
  // process's way to give them back, as the Parse or SQL PREPARE that made them would have.
  std::vector<std::pair<std::string, StatementPtr>> named() const { return {names_.begin(), names_.end()}; }
  void adopt(const std::string& name, std::string_view query, std::span<const int32_t> types,
             std::string_view sql_before, std::string_view sql_after);

 private:
  enum class Kind : char {
    Parse = 'P', Bind = 'B', Describe = 'D', Execute = 'E', Close = 'C', Sync = 'S', Query = 'Q', Call = 'F'
  };
  // What few entries need (a reply to send instead, a retry, a name whose mapping changed), out of
  // line: the common entries (a Query, an Execute or Sync of unnamed statements, a Bind) stay 32
  // bytes. At 200 they were two to a std::deque block, and every other transaction allocated one.
  struct ExpectExtra {
    std::string replacement{};  // for Replace: of the success reply (or of the error if replace_error)
    // Sync or Query: the client's messages of this group, kept while they may need a retry, and
    // the 0A000 error held back meanwhile.
    std::string retry{};
    std::string held_error{};
    std::string client_name{};  // Parse or Close by the client: the name whose mapping changed
    StatementPtr previous{};    // Close: the mapping it removed (restored if the Close never runs)
    // Execute of a DEALLOCATE: the names it removed (restored if it never runs).
    std::vector<std::pair<std::string, StatementPtr>> restore{};
  };
  struct Expect {
    Kind kind;
    ReplyAction on_success = ReplyAction::Forward;
    bool server_new = false;     // Parse: the server did not have it before
    bool outdated_copy = false;  // Close of a copy prepared before the schema changed
    bool replace_error = false;  // the replacement is of the error reply, not of the success one
    StatementPtr stmt{};         // Parse: the statement being created on the server; Bind: the one used
    std::unique_ptr<ExpectExtra> extra{};

    ExpectExtra& more() {
      if (!extra) extra = std::make_unique<ExpectExtra>();
      return *extra;
    }
    const ExpectExtra& rare() const { return extra ? *extra : kNoExtra; }
  };
  static_assert(sizeof(Expect) <= 32, "the common entry stays small: rare fields go in ExpectExtra");
  static const ExpectExtra kNoExtra;
  // An entry whose reply the client gets as `reply` instead (of its error when `is_error`).
  static Expect replaced(Kind kind, std::string reply, bool is_error, ReplyAction on_success = ReplyAction::Forward) {
    Expect e{.kind = kind, .on_success = on_success, .replace_error = is_error};
    e.more().replacement = std::move(reply);
    return e;
  }
  // An entry that makes the client's name `name` stand for `stmt`.
  static Expect naming(Kind kind, StatementPtr stmt, std::string name, bool server_new = false) {
    Expect e{.kind = kind, .server_new = server_new, .stmt = std::move(stmt)};
    e.more().client_name = std::move(name);
    return e;
  }
  // A prepared-statement command that came as an unnamed Parse, applied when its portal executes
  // (sql_commands.cpp).
  struct SqlCommand {
    enum class Op : char { Deallocate, DeallocateAll, Prepare, Fail };
    Op op = Op::Fail;
    std::string name{};
    StatementPtr stmt{};      // Prepare: the shared statement
    bool server_new = false;  // Prepare: the Parse's text is the statement's PREPARE
    std::string reply{};      // Fail: the error the client gets; others: the CommandComplete
  };

  StatementPtr resolve(std::string_view name);
  // Makes sure the server has `s` before a message that uses it, injecting its Parse (and Closes of
  // evicted statements) into `out`.
  // `before_query`: a simple Query follows, so the injection ends with its own Sync (an error in it
  // must not make the server skip the client's query).
  void ensure_on_server(const StatementPtr& s, ServerStatements& server, size_t capacity, std::string& out,
                        bool before_query = false);
  // If the server's copy of `s` predates the last schema change, appends its Close to `out` and
  // returns true; the server then lacks `s`.
  bool close_if_outdated(const StatementPtr& s, ServerStatements& server, std::string& out);
  // Whether the server has a current copy of `s` (closing an outdated one first).
  bool current_on_server(const StatementPtr& s, ServerStatements& server, std::string& out);
  // Returns whether Close messages for evicted statements were added.
  bool add_to_server(const StatementPtr& s, ServerStatements& server, size_t capacity, std::string& out);
  void feed(const protocol::Frame& f, std::span<const uint8_t> raw, ServerStatements& server, size_t capacity,
            std::string* out);
  void feed_parse(const protocol::Frame& f, std::span<const uint8_t> raw, ServerStatements& server, size_t capacity,
                  std::string* out);
  void feed_bind_or_describe(const protocol::Frame& f, std::span<const uint8_t> raw, ServerStatements& server,
                             size_t capacity, std::string* out);
  void feed_close(const protocol::Frame& f, std::span<const uint8_t> raw, std::string* out);
  // sql_commands.cpp: an unnamed Parse whose text is PREPARE/EXECUTE/DEALLOCATE (false: send it
  // as it is), the Bind and Execute that use it, and the guard for texts sent as they are.
  bool on_command_parse(const protocol::ParseMsg& p, ServerStatements& server, size_t capacity, std::string& out);
  void on_command_bind(std::string_view portal, std::string_view statement);
  bool on_command_portal(const protocol::Frame& f, ServerStatements& server);
  // A named statement whose text is one of those commands, or reads pg_prepared_statements: marks
  // `s` (false: an ordinary text).
  static bool mark_sql_command(const StatementPtr& s, std::string_view text);
  static bool is_sql_command(std::string_view text);  // PREPARE / EXECUTE / DEALLOCATE [ALL] alone
  // For SQL EXECUTE of `s`: the statement to run on the server (for a text that reads
  // pg_prepared_statements, the client's view as of now; else `s`).
  StatementPtr executable(StatementPtr s);
  // The shared statement of a SQL `PREPARE` text whose name spans [name_begin, name_end).
  StatementPtr intern_prepare(std::string_view text, size_t name_begin, size_t name_end);
  // Bind or Describe of such a statement: its text goes as an unnamed Parse (as on_command_parse
  // sends it) and the message uses the unnamed statement, so each Execute acts on the client's
  // names as that moment's PostgreSQL would.
  void use_sql_command(const protocol::Frame& f, const StatementPtr& s, ServerStatements& server, size_t capacity,
                       std::string& out);
  // statement_view.cpp: a text that reads pg_prepared_statements gets the client's own view of it.
  static bool mentions_statement_view(std::string_view sql);
  // The text may be a PREPARE/EXECUTE/DEALLOCATE or read pg_prepared_statements (sql::analyze's
  // marks: the relay's one lexical analysis of the text).
  static bool may_need_rewrite(std::string_view sql);
  std::optional<std::string> with_own_statement_view(std::string_view sql) const;
  // If `sql` (sent to the server as it is) names a pgopt_* statement: the error the client gets.
  static std::string reserved_name_error(std::string_view sql);
  void on_client_query(const protocol::Frame& f, std::span<const uint8_t> raw, ServerStatements& server,
                       size_t capacity, std::string* out);
  // A reply never comes for `e` (an earlier error made the server skip it): undo what it assumed.
  void abandoned(Expect& e, ServerStatements& server);
  void failed(Expect& e, ServerStatements& server, std::span<const uint8_t> error_body);
  ReplyDecision finish(Expect& e, ServerStatements& server);
  ReplyDecision decide(Expect& e, ReplyAction success);

  StatementRegistry& registry_;
  // Looked up by string_view on every Bind: no temporary string per message.
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, StatementPtr, NameHash, std::equal_to<>> names_;
  std::deque<Expect> pending_;
  ReplyDecision reply_for(char type, std::span<const uint8_t> body, ServerStatements& server);
  // On 0A000 before anything of its group reached the client: hold the error for a retry.
  bool hold_for_retry(std::span<const uint8_t> error_body);
  // The server says the statement is stale: 0A000 after DDL, or XX000 for a dropped parameter type.
  static bool stale_error(std::span<const uint8_t> error_body);
  void record(char type, std::span<const uint8_t> raw);

  std::string scratch_;  // holds the replacement handed out by the last decision
  // Client messages since the last Sync (only while the client has names: a retry can only be
  // needed for a named statement), up to kMaxRetryBytes.
  std::string group_;
  bool group_retryable_ = true;
  bool group_forwarded_ = false;  // some reply of the current group reached the client
  bool replaying_ = false;
  // An error came back for an extended-protocol message and no Sync has been sent since: the
  // server ignores what the client sends until its Sync.
  bool skipping_ = false;
  // ParseCompletes standing in for Parses of statements the server had, held back until the next
  // reply of the group: if that reply says the statement is stale, the group runs again (the
  // names they made are then made again from fresh statements).
  std::string held_;
  std::vector<std::pair<std::string, StatementPtr>> held_names_;
  std::optional<SqlCommand> unnamed_command_, portal_command_;
  std::string command_portal_;  // the portal portal_command_ was bound to
  static constexpr size_t kMaxRetryBytes = 64 * 1024;
};

// Error text PostgreSQL uses, so clients see the messages they would see without a pooler.
std::string duplicate_statement_error(std::string_view name);
std::string missing_statement_error(std::string_view name);
namespace detail {  // shared by tracker.cpp and sql_commands.cpp
// Never prepared on any server: messages naming it get PostgreSQL's own "does not exist" answer,
// and a Close of it is a no-op that still replies CloseComplete.
inline constexpr std::string_view kNoStatement = "pgopt_none";
// A statement the server's parser rejects, to put the server into the error state PostgreSQL
// would be in after a duplicate Parse.
inline constexpr std::string_view kRejectedQuery = "pgopt: statement name already in use";
void close_statement(std::string& out, std::string_view name);
void unnamed_parse(std::string& out, std::string_view text, std::span<const int32_t> types = {});
std::string sqlstate_of(std::span<const uint8_t> error_body);
}  // namespace detail

// Names PostgreSQL would fold to "pgopt_..." are the pooler's own on its servers.
inline bool reserved_statement_name(std::string_view name) { return name.starts_with("pgopt_"); }

}  // namespace pgopt::pooler::prepared
