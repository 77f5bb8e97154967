// Router::decide(): hints and pgopt settings first, then the transaction rules, then the statement's
// classification (rules in pooler/routing/README.md).
#include "pooler/routing/router.hpp"

#include <utility>

#include "sql/pooler_settings.hpp"

namespace pgopt::pooler::routing {
namespace {

constexpr std::string_view kRouteSetting = "pgopt.route";

char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

// Whether `word` occurs in `text`, ASCII case-insensitively (a cheap, conservative gate).
bool contains_ci(std::string_view text, std::string_view word) {
  if (word.size() > text.size()) return false;
  for (size_t i = 0; i + word.size() <= text.size(); ++i) {
    size_t k = 0;
    while (k < word.size() && lower(text[i + k]) == word[k]) ++k;
    if (k == word.size()) return true;
  }
  return false;
}

sql::ClassifierOptions classifier_options(RouterOptions& o) {
  sql::ClassifierOptions c;
  c.write_functions = std::move(o.write_functions);
  c.read_only_functions = std::move(o.read_only_functions);
  c.unknown_functions_are_reads = o.unknown_functions_are_reads;
  return c;
}

// A Write whose only reasons are calls of functions nobody declared: the author of a replica hint
// vouches for them. Everything else classified Write (DML, locks, nextval, write_functions,
// statements too long to analyse ...) certainly or possibly writes in a way no hint can excuse.
bool only_unknown_functions(const sql::Classification& c) {
  if (c.reasons.empty()) return false;
  for (const std::string& r : c.reasons)
    if (!r.starts_with("calls unknown function ")) return false;
  return true;
}

Decision fail(Decision d, Reason reason, std::string sqlstate, std::string message, std::string detail = {},
              std::string hint = {}) {
  d.action = Decision::Action::Fail;
  d.reason = reason;
  d.rewritten.reset();
  d.error = {std::move(sqlstate), std::move(message), std::move(detail), std::move(hint)};
  return d;
}

Decision forward(Decision d, Target target, Reason reason) {
  d.action = Decision::Action::Forward;
  d.target = target;
  d.reason = reason;
  return d;
}

// SET / RESET / SHOW of a pgopt.* parameter: answered here, never forwarded.
Decision setting_decision(Decision d, const sql::PoolerSettingCommand& cmd, const ClientState& client) {
  using Kind = sql::PoolerSettingCommand::Kind;
  d.classification = nullptr;
  if (cmd.kind == Kind::NotAlone)
    return fail(std::move(d), Reason::PoolerSetting, "0A000",
                "\"" + cmd.name + "\" can only be set, reset or shown by a statement sent on its own",
                "The pooler answers it itself and cannot split a query string.",
                "Send the SET, RESET or SHOW as a separate query.");
  if (cmd.name != kRouteSetting)
    return fail(std::move(d), Reason::PoolerSetting, "42704", "unrecognized configuration parameter \"" + cmd.name + "\"",
                {}, "The pooler's parameters are pgopt.route and pgopt.cache.");
  d.action = Decision::Action::Consume;
  d.reason = Reason::PoolerSetting;
  d.rewritten.reset();
  switch (cmd.kind) {
    case Kind::Set: {
      if (cmd.values.size() != 1)
        return fail(std::move(d), Reason::PoolerSetting, "42601", "SET pgopt.route takes only one argument");
      std::optional<Route> r = parse_route(cmd.values[0]);
      if (!r)
        return fail(std::move(d), Reason::PoolerSetting, "22023",
                    "invalid value for parameter \"pgopt.route\": \"" + cmd.values[0] + "\"", {},
                    "Available values: auto, primary, replica.");
      d.command_tag = "SET";
      d.new_route = *r;
      return d;
    }
    case Kind::SetDefault:
      d.command_tag = "SET";
      d.new_route = Route::Auto;
      return d;
    case Kind::Reset:
      d.command_tag = "RESET";
      d.new_route = Route::Auto;
      return d;
    case Kind::SetFromCurrent:
      d.command_tag = "SET";
      d.new_route = client.route;
      return d;
    case Kind::Show:
      d.command_tag = "SHOW";
      d.show_value = to_string(client.route);
      return d;
    case Kind::SetLocal:
      return fail(std::move(d), Reason::PoolerSetting, "0A000", "SET LOCAL pgopt.route is not supported",
                  "A transaction runs on the server its first statement was routed to.",
                  "Use SET pgopt.route for the session, or a /* pgopt:primary */ or /* pgopt:replica */ "
                  "comment before a statement.");
    default:
      break;
  }
  return fail(std::move(d), Reason::PoolerSetting, "XX000", "unexpected pgopt setting command");
}

}  // namespace

std::string_view to_string(Route r) {
  switch (r) {
    case Route::Auto: return "auto";
    case Route::Primary: return "primary";
    case Route::Replica: return "replica";
  }
  return "?";
}

std::optional<Route> parse_route(std::string_view text) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  for (Route r : {Route::Auto, Route::Primary, Route::Replica})
    if (word_is(text, to_string(r))) return r;
  return std::nullopt;
}

std::string_view to_string(Target t) {
  switch (t) {
    case Target::Primary: return "primary";
    case Target::Replica: return "replica";
    case Target::Current: return "current";
  }
  return "?";
}

std::string_view to_string(Reason r) {
  switch (r) {
    case Reason::Read: return "read";
    case Reason::Write: return "write";
    case Reason::Utility: return "maintenance command";
    case Reason::SessionState: return "session state";
    case Reason::ReadOnlyTransaction: return "read-only transaction";
    case Reason::ReadWriteTransaction: return "read-write transaction";
    case Reason::TransactionControl: return "transaction control";
    case Reason::Serializable: return "serializable isolation";
    case Reason::HeldCursor: return "cursor command outside a transaction block";
    case Reason::ParseFailed: return "does not parse";
    case Reason::HintPrimary: return "hint pgopt:primary";
    case Reason::HintReplica: return "hint pgopt:replica";
    case Reason::RoutePrimary: return "pgopt.route = primary";
    case Reason::RouteReplica: return "pgopt.route = replica";
    case Reason::InTransaction: return "inside a transaction block";
    case Reason::PoolerSetting: return "pgopt setting";
    case Reason::BadHint: return "bad hint";
  }
  return "?";
}

bool Decision::forced() const {
  return reason == Reason::HintPrimary || reason == Reason::HintReplica || reason == Reason::RoutePrimary ||
         reason == Reason::RouteReplica;
}

Router::Router(RouterOptions options) : cache_(classifier_options(options), options.cache_capacity) {}

Decision Router::decide(std::string_view sql, const ClientState& client) {
  Decision d;
  HintScan scan = scan_hints(sql);
  d.hint = scan.hint;
  if (!scan.error.empty())
    return fail(std::move(d), Reason::BadHint, "22023", scan.error, {},
                "A leading /* pgopt:primary */ or /* pgopt:replica */ comment routes one statement.");
  std::string_view text = sql;
  if (!scan.ranges.empty()) {
    d.rewritten = blank_hints(sql, scan);
    text = *d.rewritten;
  }

  // Only statements naming pgopt anywhere after the leading comments pay for this parse; and only
  // a SET/RESET/SHOW, or a string of several statements, can be (or hide) a pgopt setting, which
  // spares long single queries the scan. A `;` followed by nothing but blanks (drivers and pgbench
  // end statements with one) does not start another statement.
  const std::string_view body_text = text.substr(scan.body);
  const std::string_view word = first_word(text, scan.body);
  const size_t semicolon = body_text.find(';');
  const bool may_set = word_is(word, "set") || word_is(word, "reset") || word_is(word, "show") ||
                       (semicolon != std::string_view::npos &&
                        body_text.find_first_not_of(" \t\r\n\f\v;", semicolon) != std::string_view::npos);
  if (may_set && sql::may_name_pooler_setting(body_text)) {
    sql::PoolerSettingCommand cmd = sql::pooler_setting_command(text);
    // pgopt.cache is the result cache's (client_cache.cpp answers it between transactions): here,
    // inside a block or with the cache off, it goes on like any setting, which the server keeps as
    // a placeholder and nothing reads.
    if (cmd.kind != sql::PoolerSettingCommand::Kind::None && cmd.name != "pgopt.cache")
      return setting_decision(std::move(d), cmd, client);
  }

  if (client.in_transaction) return forward(std::move(d), Target::Current, Reason::InTransaction);

  const sql::Classification& c = cache_.classify(text);
  d.classification = &c;
  if (c.parse_failed) return forward(std::move(d), Target::Primary, Reason::ParseFailed);

  // After a held-back BEGIN the statement is already inside the client's transaction: as in any
  // transaction, its hint is stripped and ignored (a replica hint must not turn a read-write
  // transaction into a replica's).
  const Hint hint = client.begin_pending ? Hint::None : scan.hint;
  Route route = hint == Hint::Primary   ? Route::Primary
                : hint == Hint::Replica ? Route::Replica
                                        : client.route;
  bool by_hint = hint != Hint::None;
  if (route == Route::Primary)
    return forward(std::move(d), Target::Primary, by_hint ? Reason::HintPrimary : Reason::RoutePrimary);
  if (route == Route::Replica) {
    bool writes = c.kind == sql::StatementKind::Utility ||
                  (c.kind == sql::StatementKind::Write && !only_unknown_functions(c));
    if (writes) {
      std::string what = c.reasons.empty() ? std::string(sql::to_string(c.kind)) : c.reasons.front();
      return fail(std::move(d), by_hint ? Reason::HintReplica : Reason::RouteReplica, "25006",
                  "cannot route a write to a replica: " + what,
                  by_hint ? "The statement carries the hint /* pgopt:replica */."
                          : "pgopt.route is \"replica\" for this session.",
                  by_hint ? "Remove the hint, or use /* pgopt:primary */."
                          : "SET pgopt.route = 'auto' (or 'primary') first, or use /* pgopt:primary */.");
    }
    return forward(std::move(d), Target::Replica, by_hint ? Reason::HintReplica : Reason::RouteReplica);
  }
  route_auto(text, scan.body, c, client, d);
  return d;
}

void Router::route_auto(std::string_view text, size_t body, const sql::Classification& c, const ClientState& client,
                        Decision& d) {
  using Kind = sql::StatementKind;
  if (c.kind == Kind::TransactionControl) {
    route_transaction(text, c, client, d);
    return;
  }
  if (client.begin_pending) {
    // The statement opens a plain BEGIN's transaction: read-only only by the client's default.
    if (c.kind == Kind::Read && client.default_read_only && !client.default_serializable)
      d = forward(std::move(d), Target::Replica, Reason::ReadOnlyTransaction);
    else
      d = forward(std::move(d), Target::Primary,
                  c.kind == Kind::Write ? Reason::Write
                  : client.default_serializable && client.default_read_only ? Reason::Serializable
                                                                           : Reason::ReadWriteTransaction);
    return;
  }
  switch (c.kind) {
    case Kind::Read: {
      if (client.default_serializable) {
        d = forward(std::move(d), Target::Primary, Reason::Serializable);
        return;
      }
      std::string_view word = first_word(text, body);
      if (word_is(word, "fetch") || word_is(word, "move") || word_is(word, "close")) {
        d = forward(std::move(d), Target::Primary, Reason::HeldCursor);
        return;
      }
      d = forward(std::move(d), Target::Replica, Reason::Read);
      return;
    }
    case Kind::Write: d = forward(std::move(d), Target::Primary, Reason::Write); return;
    case Kind::Utility: d = forward(std::move(d), Target::Primary, Reason::Utility); return;
    case Kind::SessionState: d = forward(std::move(d), Target::Primary, Reason::SessionState); return;
    case Kind::TransactionControl: break;  // handled above
  }
}

const sql::TransactionSteps& Router::steps_for(std::string_view text) {
  if (auto it = steps_cache_.find(text); it != steps_cache_.end()) return it->second;
  if (steps_cache_.size() >= kStepsCacheCapacity) steps_cache_.clear();
  return steps_cache_.emplace(std::string(text), sql::transaction_steps(text)).first->second;
}

// Only reads and transaction statements are in the string (its kind is TransactionControl).
void Router::route_transaction(std::string_view text, const sql::Classification& c, const ClientState& client,
                               Decision& d) {
  using Tx = sql::TxControl;
  // No BEGIN in sight: COMMIT, ROLLBACK, SAVEPOINT ... outside a block only draw a warning from
  // PostgreSQL; the primary is as good a place as any. Gated without a parse: the common COMMIT
  // never pays for one.
  bool may_begin = client.begin_pending || c.tx == Tx::Begin || c.tx == Tx::BeginReadOnly ||
                   contains_ci(text, "begin") || contains_ci(text, "start");
  if (!may_begin) {
    d = forward(std::move(d), Target::Primary, Reason::TransactionControl);
    return;
  }
  // The string ends inside a plain transaction: read-write.
  if (!client.begin_pending && c.tx == Tx::Begin && !client.default_read_only) {
    d = forward(std::move(d), Target::Primary, Reason::ReadWriteTransaction);
    return;
  }

  using Step = sql::TransactionStep::Kind;
  const sql::TransactionSteps& steps = steps_for(text);
  bool in_block = client.begin_pending, fresh = client.begin_pending;
  bool read_only = client.begin_pending && client.default_read_only;
  bool any_block = client.begin_pending, read_write = false, serializable = false, primary_only = false;
  // A block's mode is settled by its first query or its end; SET TRANSACTION READ ONLY before
  // that makes it read-only.
  auto settle = [&] {
    if (in_block && !read_only) read_write = true;
    fresh = false;
  };
  for (const sql::TransactionStep& s : steps.steps) {
    switch (s.kind) {
      case Step::Query:
        settle();
        break;
      case Step::Begin:
        if (in_block) break;  // PostgreSQL warns and ignores a nested BEGIN
        in_block = fresh = any_block = true;
        read_only = s.read_only.value_or(client.default_read_only);
        if (s.read_only == false) read_write = true;  // a standby refuses READ WRITE outright
        serializable |= s.serializable;
        break;
      case Step::SetTransaction:
        if (!in_block) break;  // a warning and no effect outside a block
        serializable |= s.serializable;
        if (s.read_only == true && fresh) read_only = true;
        if (s.read_only == false) read_write = true;
        break;
      case Step::End:
        if (!in_block) break;
        settle();
        if (s.chain) fresh = true;  // AND CHAIN: a new block with the same modes
        else in_block = false;
        break;
      case Step::Neutral:
        break;
      case Step::PrimaryOnly:
        primary_only = true;
        break;
    }
  }
  settle();
  if (steps.parse_failed || primary_only || !any_block)
    d = forward(std::move(d), Target::Primary, Reason::TransactionControl);
  else if (read_write)
    d = forward(std::move(d), Target::Primary, Reason::ReadWriteTransaction);
  else if (serializable || client.default_serializable)
    d = forward(std::move(d), Target::Primary, Reason::Serializable);
  else
    d = forward(std::move(d), Target::Replica, Reason::ReadOnlyTransaction);
}

}  // namespace pgopt::pooler::routing
