// What each client message on its way to a server means for the session: request counts, session
// effects (what follows the client, what the server must be asked about or reset for), custom
// setting names for the session check, and the memory a large message may take.
#include <fmt/format.h>

#include <algorithm>

#include "pooler/client_session.hpp"
#include "pooler/log.hpp"
#include "pooler/session_check.hpp"
#include "sql/prepared_commands.hpp"
#include "sql/statement_info.hpp"

namespace pgopt::pooler {

namespace proto = pgopt::protocol;

void ClientSession::note_session_effects(std::string_view sql) {
  // The one lexical analysis of this text (also what the router, capture and the prepared tracker
  // read); the marks are copied, since parsing below may analyse other texts.
  const sql::StatementInfo& info = sql::analyze(sql);
  const bool may_write = info.may(sql::Mark::WritesTables);
  const bool may_set = info.may(sql::Mark::SessionEffects);
  const bool names_pg_settings = info.may(sql::Mark::PgSettings);
  awake_->tx_.on_statement(sql, info);  // WITH HOLD cursors keep the client on this server
  // Where the database has code a statement can run without naming it (triggers, rules, defaults
  // and views calling user functions), the text alone cannot show that the session is unchanged.
  switch (server_->pool ? server_->pool->code_reach() : CodeReach::Unknown) {
    case CodeReach::Everything:
      server_->need_check("a statement where views call user functions");
      break;
    case CodeReach::Writes:
    case CodeReach::Unknown:
      if (may_write) server_->need_check("a write where triggers, rules or user functions exist");
      break;
    case CodeReach::None:
      // The catalog's own rules are left out of the code reach (session_check.cpp): UPDATE or
      // INSERT on pg_settings runs set_config() through them, which only the view's name shows.
      if (names_pg_settings && may_write) server_->need_check("a write to pg_settings");
      break;
  }
  if (!may_set) return;
  auto fx = sql::session_effects(sql);
  // A lone SQL PREPARE is kept per client by the prepared-statement tracker, like a protocol Parse.
  const bool tracked_prepare = prepared_ && fx.dirty_reasons.size() == 1 && fx.dirty_reasons[0] == "PREPARE" &&
                               sql::prepared_command(sql).kind == sql::PreparedCommand::Kind::Prepare;
  if (fx.dirty && !tracked_prepare) server_->need_reset(fx.dirty_reasons.empty() ? "session state" : fx.dirty_reasons.front());
  if (fx.unknown()) {
    server_->need_check(fx.unknown_reasons.front());
    if (server_->pool) server_->pool->learn_custom_names(sql::custom_setting_names(sql));
  }
  if (fx.defines_code && server_->pool) server_->pool->code_defined();
  // pgopt.route and pgopt.cache are settings of the session like the others: RESET ALL and DISCARD
  // ALL end them.
  if (fx.discard_all || std::any_of(fx.gucs.begin(), fx.gucs.end(),
                                    [](const auto& g) { return g.kind == sql::GucChange::Kind::ResetAll; })) {
    split_memory_.route = routing::Route::Auto;
    if (cache_) cache_->use = SessionCache::Use::On;
  }
  for (auto& g : fx.gucs) {
    if (g.name == "session_authorization") {
      server_->need_reset("SET SESSION AUTHORIZATION");
    } else {
      awake_->tx_.defer(std::move(g));
    }
  }
  if (fx.discard_all) awake_->tx_.defer_discard_all();
}

// Bookkeeping for one client message about to go to the attached server.
ClientSession::Noted ClientSession::note_client_message(const proto::Frame& f) {
  namespace fe = proto::frontend;
  const bool txn = mode_ == PoolMode::Transaction;
  switch (f.type) {
    case fe::kQuery:
      if (txn) note_session_effects(std::string_view(reinterpret_cast<const char*>(f.body.data()), f.body.size() - 1));
      break;
    case fe::kParse:
      if (txn) {
        auto p = proto::parse_text(f.body);
        if (p && !p->name.empty() && !prepared_) {
          // Named statements cannot follow the client to another server yet: keep no one else
          // from seeing them.
          server_->need_reset("named prepared statement");
        }
        if (p) note_session_effects(p->query);
      }
      break;
    case fe::kBind:
      if (txn && prepared_) note_bound_statement(f);
      if (txn && server_->residue == ServerConn::Residue::Check) learn_bound_names(f);
      break;
    case fe::kSync:
    case fe::kFunctionCall:
    case fe::kExecute:
    case fe::kDescribe:
    case fe::kClose:
    case fe::kFlush:
    case fe::kCopyData:
    case fe::kCopyDone:
    case fe::kCopyFail:
      break;
    default:
      disconnect(fmt::format("unexpected message '{}' after login", f.type), "08P01",
                 fmt::format("unexpected message type '{}'", f.type));
      return Noted::Refused;
  }
  const Noted noted = awake_->tx_.on_client(f.type) ? Noted::Sent : Noted::IgnoredSync;
  if (cache_) cache_note_client(f, noted);
  return noted;
}

bool ClientSession::reserve_large_message(std::span<const uint8_t> unread) {
  if (unread.size() < 5) return true;
  const size_t need = (size_t(unread[1]) << 24 | size_t(unread[2]) << 16 | size_t(unread[3]) << 8 | unread[4]) + 1;
  if (need <= Runtime::kLargeMessage || awake_->io_.large_message.grow_to(rt_.large_messages, need)) return true;
  disconnect(fmt::format("large_message_memory exhausted by a {} kB message", need / 1024), "53200",
             fmt::format("out of memory: a {} kB message does not fit in what the pooler may buffer for large "
                         "messages right now (large_message_memory); retry later",
                         need / 1024));
  return false;
}

void ClientSession::learn_bound_names(const proto::Frame& bind) {
  // set_config($1, $2, false) names its setting in a bind value: the session check can read a
  // custom setting only by name. Only text values shaped like one are kept.
  auto b = proto::parse_bind(bind.body);
  if (!b || !server_->pool) return;
  std::vector<std::string> names;
  for (size_t i = 0; i < b->params.size(); ++i) {
    const int16_t format = b->param_formats.empty() ? 0 : b->param_formats[b->param_formats.size() == 1 ? 0 : i];
    if (format != 0 || !b->params[i]) continue;
    std::string_view v(reinterpret_cast<const char*>(b->params[i]->data()), b->params[i]->size());
    if (is_custom_setting_name(v)) names.emplace_back(v);
  }
  server_->pool->learn_custom_names(names);
}

void ClientSession::note_bound_statement(const proto::Frame& bind) {
  // A named statement may have been prepared while no server was attached (answer_locally) or in an
  // earlier transaction: what it does is noted each time it runs, from its text.
  auto name = proto::bind_statement_name(bind.body);
  if (!name || name->empty()) return;  // the unnamed statement: its Parse was noted in this batch
  if (const prepared::Statement* st = prepared_->statement_for(*name)) note_session_effects(st->query);
}

}  // namespace pgopt::pooler
