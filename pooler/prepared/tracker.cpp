// One client's prepared statements in transaction mode: its names, the rewriting of its messages
// onto the shared server-side statements, and the server replies that rewriting adds or changes.
#include "pooler/prepared/tracker.hpp"

#include "sql/prepared_commands.hpp"
#include "sql/statement_info.hpp"

namespace pgopt::pooler::prepared {

const Tracker::ExpectExtra Tracker::kNoExtra{};

namespace proto = pgopt::protocol;

namespace detail {
void close_statement(std::string& out, std::string_view name) {
  proto::Writer(out).begin('C').u8('S').cstr(name).end();
}

std::string sqlstate_of(std::span<const uint8_t> error_body) {
  if (auto fields = proto::parse_error_fields(error_body)) return std::string(proto::error_field(*fields, 'C'));
  return {};
}
}  // namespace detail

using namespace detail;

std::string duplicate_statement_error(std::string_view name) {
  std::string out;
  proto::error_response(out, "ERROR", "42P05", "prepared statement \"" + std::string(name) + "\" already exists");
  return out;
}

std::string missing_statement_error(std::string_view name) {
  std::string out;
  proto::error_response(out, "ERROR", "26000", "prepared statement \"" + std::string(name) + "\" does not exist");
  return out;
}

bool Tracker::may_need_rewrite(std::string_view sql) {
  const sql::StatementInfo& info = sql::analyze(sql);
  return info.may(sql::Mark::PreparedCommand) || info.may(sql::Mark::StatementView);
}

bool Tracker::needs_rewrite(const proto::Frame& f) {
  switch (f.type) {
    case 'P': {
      if (f.body.empty()) return false;
      if (f.body[0] != 0) return true;  // the statement name comes first
      auto p = proto::parse_text(f.body);  // the text only: no parameter types decoded
      return p && may_need_rewrite(p->query);
    }
    case 'B': {
      proto::Reader r(f.body);
      r.cstr();
      return !r.cstr().empty();
    }
    case 'D':
    case 'C':
      return f.body.size() >= 2 && f.body[0] == 'S' && f.body[1] != 0;
    case 'Q': {
      auto q = proto::parse_query(f.body);
      return q && may_need_rewrite(*q);
    }
    default:
      return false;
  }
}

bool Tracker::can_answer_locally(std::span<const proto::Frame> batch) {
  if (batch.empty() || batch.back().type != 'S') return false;
  bool any_parse = false;
  for (const auto& f : batch) {
    if (f.type == 'P' && needs_rewrite(f))
      any_parse = true;
    else if (f.type != 'S')
      return false;
  }
  return any_parse;
}

void Tracker::answer_locally(std::span<const proto::Frame> batch, std::string& reply) {
  bool skipping = false;  // after an error PostgreSQL ignores everything up to the next Sync
  for (const auto& f : batch) {
    if (f.type == 'S') {
      skipping = false;
      proto::ready_for_query(reply, 'I');
      continue;
    }
    if (skipping) continue;
    auto p = proto::parse_parse(f.body);
    if (!p) continue;
    std::string name(p->name);
    if (names_.contains(name)) {
      reply += duplicate_statement_error(name);
      skipping = true;
      continue;
    }
    if (auto err = sql::check_preparable(p->query)) {
      proto::Writer w(reply);
      w.begin('E').u8('S').cstr("ERROR").u8('V').cstr("ERROR").u8('C').cstr(err->sqlstate).u8('M').cstr(err->message);
      if (err->cursor > 0) w.u8('P').cstr(std::to_string(err->cursor));
      w.u8(0).end();
      skipping = true;
      continue;
    }
    auto& s = names_[name] = registry_.intern(p->query, p->param_types);
    mark_sql_command(s, p->query);
    proto::parse_complete(reply);
  }
}

StatementPtr Tracker::resolve(std::string_view name) {
  auto it = names_.find(name);
  if (it == names_.end()) return nullptr;
  if (it->second->stale.load(std::memory_order_relaxed)) it->second = registry_.refresh(it->second);
  return it->second;
}

bool Tracker::add_to_server(const StatementPtr& s, ServerStatements& server, size_t capacity, std::string& out) {
  std::vector<StatementPtr> evicted;
  server.add(s, capacity, evicted);
  for (auto& old : evicted) {
    close_statement(out, old->server_name);
    pending_.push_back(Expect{.kind = Kind::Close, .on_success = ReplyAction::Skip, .stmt = std::move(old)});
  }
  return !evicted.empty();
}

bool Tracker::close_if_outdated(const StatementPtr& s, ServerStatements& server, std::string& out) {
  if (!server.outdated(*s)) return false;
  // Prepared before the schema last changed: it may name a type that is gone (see
  // server_statements.hpp). Closed here; the caller then prepares it again under the same name.
  close_statement(out, s->server_name);
  pending_.push_back(Expect{.kind = Kind::Close, .on_success = ReplyAction::Skip, .outdated_copy = true, .stmt = s});
  return true;
}

bool Tracker::current_on_server(const StatementPtr& s, ServerStatements& server, std::string& out) {
  close_if_outdated(s, server, out);
  return server.has(*s);
}

void Tracker::ensure_on_server(const StatementPtr& s, ServerStatements& server, size_t capacity, std::string& out,
                               bool before_query) {
  if (current_on_server(s, server, out)) return;
  add_to_server(s, server, capacity, out);
  if (s->prepare_sql.empty()) {
    out += s->parse_message;
    pending_.push_back(Expect{.kind = Kind::Parse, .on_success = ReplyAction::Skip, .server_new = true, .stmt = s});
  } else {
    // A SQL-level statement is made by running its PREPARE. Through the unnamed statement and
    // portal, so it fits among extended-protocol messages (and replaces an unnamed statement the
    // client may have: the one liberty taken with the protocol, for a rare mix).
    proto::Writer(out).begin('P').cstr("").cstr(s->prepare_sql).i16(0).end();
    proto::Writer(out).begin('B').cstr("").cstr("").i16(0).i16(0).i16(0).end();
    proto::Writer(out).begin('E').cstr("").i32(0).end();
    pending_.push_back(Expect{.kind = Kind::Parse, .on_success = ReplyAction::Skip});
    pending_.push_back(Expect{.kind = Kind::Bind, .on_success = ReplyAction::Skip});
    pending_.push_back(Expect{.kind = Kind::Execute, .on_success = ReplyAction::Skip, .server_new = true, .stmt = s});
  }
  if (before_query) {
    proto::sync(out);
    pending_.push_back(Expect{.kind = Kind::Sync, .on_success = ReplyAction::Skip});
  }
}

void Tracker::record(char type, std::span<const uint8_t> raw) {
  // A named Parse starts what may need a retry even for a client with no names yet.
  const bool named_parse = type == 'P' && raw.size() > 5 && raw[5] != 0;
  if (replaying_ || (names_.empty() && !named_parse)) {
    group_retryable_ = group_retryable_ && !replaying_;
    return;
  }
  if (type == 'd' || type == 'c' || type == 'f' || group_.size() + raw.size() > kMaxRetryBytes) {
    group_retryable_ = false;  // COPY data or a large group: not worth keeping a copy for a retry
    group_.clear();
    return;
  }
  if (group_retryable_) group_.append(reinterpret_cast<const char*>(raw.data()), raw.size());
}

void Tracker::adopt(const std::string& name, std::string_view query, std::span<const int32_t> types,
                    std::string_view sql_before, std::string_view sql_after) {
  if (!sql_before.empty() || !sql_after.empty()) {
    names_[name] = registry_.intern_sql(sql_before, sql_after);
    return;
  }
  auto& s = names_[name] = registry_.intern(query, types);
  mark_sql_command(s, query);
}

void Tracker::ignore_syncs(int n) {
  for (auto it = pending_.begin(); it != pending_.end() && n > 0;) {
    if (it->kind == Kind::Sync) {
      it = pending_.erase(it);
      --n;
    } else {
      ++it;
    }
  }
}

void Tracker::replay(std::span<const uint8_t> messages, ServerStatements& server, size_t capacity, std::string& out) {
  replaying_ = true;
  size_t pos = 0;
  while (pos < messages.size()) {
    auto r = proto::decode_frame(messages.subspan(pos), UINT32_MAX);
    if (r.status != proto::DecodeStatus::Frame) break;  // our own copy: cannot happen
    on_client_message(r.frame, messages.subspan(pos, r.frame.size), server, capacity, &out);
    pos += r.frame.size;
  }
  replaying_ = false;
}

void Tracker::on_client_message(const proto::Frame& f, std::span<const uint8_t> raw, ServerStatements& server,
                                size_t capacity, std::string* out) {
  if (f.type == 'S') skipping_ = false;
  const size_t before = pending_.size();
  feed(f, raw, server, capacity, out);
  if (!skipping_) return;
  // The error that makes the server skip to the Sync came back before this was sent: no reply
  // will come for it, newest first as if the error had come after it.
  while (pending_.size() > before) {
    abandoned(pending_.back(), server);
    pending_.pop_back();
  }
}

namespace {
// A message that goes to the server as the client sent it (when anything goes: `out` set).
void pass_through(std::span<const uint8_t> raw, std::string* out) {
  if (out) out->append(reinterpret_cast<const char*>(raw.data()), raw.size());
}
}  // namespace

void Tracker::feed(const proto::Frame& f, std::span<const uint8_t> raw, ServerStatements& server, size_t capacity,
                   std::string* out) {
  if (f.type != 'Q') record(f.type, raw);
  auto pass = [&] { pass_through(raw, out); };
  switch (f.type) {
    case 'P':
      return feed_parse(f, raw, server, capacity, out);
    case 'B':
    case 'D':
      return feed_bind_or_describe(f, raw, server, capacity, out);
    case 'C':
      return feed_close(f, raw, out);
    case 'E':
      if (!portal_command_ || !on_command_portal(f, server)) pending_.push_back(Expect{.kind = Kind::Execute});
      return pass();
    case 'S': {
      Expect e{.kind = Kind::Sync};
      if (group_retryable_ && !replaying_ && !group_.empty()) e.more().retry = std::move(group_);
      group_.clear();
      group_retryable_ = true;
      pending_.push_back(std::move(e));
      server.next_group();
      return pass();
    }
    case 'F':
      pending_.push_back(Expect{.kind = Kind::Call});
      return pass();
    case 'Q':
      return on_client_query(f, raw, server, capacity, out);
    default:  // Flush, COPY data: no reply of their own
      return pass();
  }
}

// A Parse: the unnamed statement passes (or is rewritten for a command or the statement view); a
// named one becomes the shared statement of its text, prepared on this server if it is not yet.
void Tracker::feed_parse(const proto::Frame& f, std::span<const uint8_t> raw, ServerStatements& server,
                         size_t capacity, std::string* out) {
  auto pass = [&] { pass_through(raw, out); };
  const bool unnamed = f.body.empty() || f.body[0] == 0;
  if (unnamed) unnamed_command_.reset();  // the unnamed statement is replaced
  if (out && unnamed && needs_rewrite(f)) {
    auto p = proto::parse_parse(f.body);
    if (p && on_command_parse(*p, server, capacity, *out)) return;
    if (auto viewed = p ? with_own_statement_view(p->query) : std::nullopt) {
      proto::Writer w(*out);
      w.begin('P').cstr("").cstr(*viewed).i16(int16_t(p->param_types.size()));
      for (int32_t t : p->param_types) w.i32(t);
      w.end();
      pending_.push_back(Expect{.kind = Kind::Parse});
      return;
    }
  }
  if (!out || unnamed) {
    pending_.push_back(Expect{.kind = Kind::Parse});
    return pass();
  }
  auto p = proto::parse_parse(f.body);
  if (!p) return pass();  // validated before; cannot happen
  std::string name(p->name);
  if (auto err = reserved_name_error(p->query); !err.empty()) {
    proto::Writer(*out).begin('P').cstr(kNoStatement).cstr(kRejectedQuery).i16(0).end();
    pending_.push_back(replaced(Kind::Parse, std::move(err), true));
    return;
  }
  if (names_.contains(name)) {
    proto::Writer(*out).begin('P').cstr(kNoStatement).cstr(kRejectedQuery).i16(0).end();
    pending_.push_back(replaced(Kind::Parse, duplicate_statement_error(name), true));
    return;
  }
  StatementPtr s = registry_.intern(p->query, p->param_types);
  names_[name] = s;
  // A statement reading pg_prepared_statements is never prepared on a server either: each Bind
  // or Describe of it runs the client's view as of that moment (use_sql_command), as PostgreSQL
  // reads the view at each Execute, the statement itself included. Its Parse is checked by the
  // server through the unnamed statement, with the view as of now, so errors come at the Parse.
  if (mark_sql_command(s, p->query) && !is_sql_command(p->query)) {
    unnamed_command_.reset();  // the server's unnamed statement is replaced
    unnamed_parse(*out, *with_own_statement_view(p->query), p->param_types);
    pending_.push_back(naming(Kind::Parse, s, name));
    return;
  }
  // A command's text never goes to the server as a statement (see use_sql_command); its Parse
  // is answered like one of a statement the server has.
  if (s->sql_command.load(std::memory_order_relaxed) || current_on_server(s, server, *out)) {
    close_statement(*out, kNoStatement);
    std::string parse_complete;
    proto::parse_complete(parse_complete);
    Expect e = naming(Kind::Close, s, name);
    e.on_success = ReplyAction::Replace;
    e.extra->replacement = std::move(parse_complete);
    pending_.push_back(std::move(e));
    return;
  }
  add_to_server(s, server, capacity, *out);
  *out += s->parse_message;
  pending_.push_back(naming(Kind::Parse, s, name, /*server_new=*/true));
  return;
}

// A Bind or Describe: the client's statement name becomes the shared statement's on this server,
// prepared first if the server lacks it; an unknown name gets PostgreSQL's error.
void Tracker::feed_bind_or_describe(const proto::Frame& f, std::span<const uint8_t> raw, ServerStatements& server,
                                    size_t capacity, std::string* out) {
  auto pass = [&] { pass_through(raw, out); };
  const Kind kind = f.type == 'B' ? Kind::Bind : Kind::Describe;
  if (kind == Kind::Bind && (unnamed_command_ || portal_command_)) {
    proto::Reader r(f.body);
    std::string_view portal = r.cstr();
    on_command_bind(portal, r.cstr());
  }
  if (kind == Kind::Describe && portal_command_ && on_command_portal(f, server)) return pass();
  if (!out || !needs_rewrite(f)) {
    pending_.push_back(Expect{.kind = kind});
    return pass();
  }
  proto::Reader r(f.body);
  std::string_view portal, name;
  if (kind == Kind::Bind) {
    portal = r.cstr();
    name = r.cstr();
  } else {
    r.u8();
    name = r.cstr();
  }
  auto rest = r.rest();
  StatementPtr s = resolve(name);
  if (s && s->sql_command.load(std::memory_order_relaxed)) return use_sql_command(f, s, server, capacity, *out);
  if (s) ensure_on_server(s, server, capacity, *out);
  proto::Writer w(*out);
  w.begin(f.type);
  if (kind == Kind::Bind)
    w.cstr(portal);
  else
    w.u8('S');
  w.cstr(s ? std::string_view(s->server_name) : kNoStatement).raw(rest).end();
  if (s)
    pending_.push_back(Expect{.kind = kind, .stmt = s});
  else
    pending_.push_back(replaced(kind, missing_statement_error(name), true));
  return;
}

// A Close of a statement: the client's name is forgotten; the shared statement stays on the server.
void Tracker::feed_close(const proto::Frame& f, std::span<const uint8_t> raw, std::string* out) {
  auto pass = [&] { pass_through(raw, out); };
  if (!out || !needs_rewrite(f)) {
    pending_.push_back(Expect{.kind = Kind::Close});
    return pass();
  }
  proto::Reader r(f.body);
  r.u8();
  std::string name(r.cstr());
  StatementPtr previous;
  if (auto it = names_.find(name); it != names_.end()) {
    previous = std::move(it->second);
    names_.erase(it);
  }
  // The shared statement stays on the server for everyone else; the client still gets its
  // CloseComplete, in order, from a Close that changes nothing.
  close_statement(*out, kNoStatement);
  Expect e{.kind = Kind::Close};
  e.more().client_name = std::move(name);
  e.extra->previous = std::move(previous);
  pending_.push_back(std::move(e));
  return;
}

void Tracker::on_client_query(const proto::Frame& f, std::span<const uint8_t> raw, ServerStatements& server,
                              size_t capacity, std::string* out) {
  auto pass = [&] {
    pending_.push_back(Expect{.kind = Kind::Query});
    if (out) out->append(reinterpret_cast<const char*>(raw.data()), raw.size());
  };
  if (!out) return pass();
  auto q = proto::parse_query(f.body);
  if (!q) return pass();
  // The marks are copied: with_own_statement_view() and prepared_command() may analyse other texts.
  const bool may_be_command = sql::analyze(*q).may(sql::Mark::PreparedCommand);
  if (auto viewed = with_own_statement_view(*q)) {
    using K = sql::PreparedCommand::Kind;
    const K kind = may_be_command ? sql::prepared_command(*q).kind : K::None;
    if (kind == K::None || (kind == K::Mixed && reserved_name_error(*q).empty())) {
      proto::query(*out, *viewed);
      pending_.push_back(Expect{.kind = Kind::Query});
      return;
    }
  }
  if (!may_be_command) return pass();
  auto cmd = sql::prepared_command(*q);
  std::string reply;
  switch (cmd.kind) {
    case sql::PreparedCommand::Kind::Deallocate: {
      auto it = names_.find(cmd.name);
      if (it == names_.end()) {
        // PostgreSQL's own error, state and all, with the client's name put back in.
        proto::query(*out, "DEALLOCATE " + std::string(kNoStatement));
        pending_.push_back(replaced(Kind::Query, missing_statement_error(cmd.name), true));
        return;
      }
      names_.erase(it);
      proto::command_complete(reply, "DEALLOCATE");
      break;
    }
    case sql::PreparedCommand::Kind::DeallocateAll:
      names_.clear();
      proto::command_complete(reply, "DEALLOCATE ALL");
      break;
    case sql::PreparedCommand::Kind::Prepare: {
      if (names_.contains(cmd.name)) {
        proto::query(*out, kRejectedQuery);
        pending_.push_back(replaced(Kind::Query, duplicate_statement_error(cmd.name), true));
        return;
      }
      StatementPtr s = intern_prepare(*q, cmd.name_begin, cmd.name_end);
      names_[cmd.name] = s;
      const bool closed = close_if_outdated(s, server, *out);
      if (!closed && server.has(*s)) {
        proto::command_complete(reply, "PREPARE");
        break;
      }
      if (add_to_server(s, server, capacity, *out) || closed) {
        proto::sync(*out);
        pending_.push_back(Expect{.kind = Kind::Sync, .on_success = ReplyAction::Skip});
      }
      proto::query(*out, s->prepare_sql);
      pending_.push_back(naming(Kind::Query, s, cmd.name, /*server_new=*/true));
      return;
    }
    case sql::PreparedCommand::Kind::Execute: {
      std::string_view text = *q;
      StatementPtr s = executable(resolve(cmd.name));
      if (!s) {
        proto::query(*out, std::string(text.substr(0, cmd.name_begin)) + std::string(kNoStatement) +
                               std::string(text.substr(cmd.name_end)));
        pending_.push_back(replaced(Kind::Query, missing_statement_error(cmd.name), true));
        return;
      }
      ensure_on_server(s, server, capacity, *out, /*before_query=*/true);
      proto::query(*out, std::string(text.substr(0, cmd.name_begin)) + s->server_name + std::string(text.substr(cmd.name_end)));
      Expect e{.kind = Kind::Query, .stmt = s};
      if (!replaying_ && raw.size() <= kMaxRetryBytes) e.more().retry.assign(reinterpret_cast<const char*>(raw.data()), raw.size());
      pending_.push_back(std::move(e));
      return;
    }
    case sql::PreparedCommand::Kind::Mixed:
      if (auto err = reserved_name_error(*q); !err.empty()) {
        proto::query(*out, "DEALLOCATE " + std::string(kNoStatement));
        pending_.push_back(replaced(Kind::Query, std::move(err), true));
        return;
      }
      return pass();
    default:
      return pass();
  }
  // Only the client's names change; the shared statements stay for everyone else. An empty query
  // still takes a trip through the server so the reply keeps its place among the others.
  proto::query(*out, "");
  pending_.push_back(replaced(Kind::Query, std::move(reply), false));
}

void Tracker::abandoned(Expect& e, ServerStatements& server) {
  if (e.extra)
    for (auto& [name, stmt] : e.extra->restore) names_.try_emplace(name, std::move(stmt));
  switch (e.kind) {
    case Kind::Parse:
    case Kind::Execute:
    case Kind::Query:
      if (e.server_new && e.stmt) server.forget_added(e.stmt->id);
      if (const std::string& name = e.rare().client_name; !name.empty()) {
        if (auto it = names_.find(name); it != names_.end() && it->second == e.stmt) names_.erase(it);
      }
      break;
    case Kind::Close:
      if (e.on_success == ReplyAction::Skip && e.stmt && e.outdated_copy) {
        server.restore_outdated(std::move(e.stmt));
      } else if (e.on_success == ReplyAction::Skip && e.stmt) {
        // An eviction that never ran: the server still has the statement.
        std::vector<StatementPtr> none;
        server.add(e.stmt, SIZE_MAX, none);
      } else if (e.on_success == ReplyAction::Replace && !e.rare().client_name.empty()) {
        // Stood in for a Parse that PostgreSQL would have skipped: the name was never made.
        if (auto it = names_.find(e.extra->client_name); it != names_.end() && it->second == e.stmt) names_.erase(it);
      } else if (e.rare().previous && !e.extra->client_name.empty()) {
        names_.try_emplace(e.extra->client_name, std::move(e.extra->previous));
      }
      break;
    default:
      break;
  }
}

void Tracker::failed(Expect& e, ServerStatements& server, std::span<const uint8_t> error_body) {
  switch (e.kind) {
    case Kind::Parse:
    case Kind::Execute:
      abandoned(e, server);
      // A statement prepared on first use (its Parse was answered before any server saw it) that
      // the server refuses: the client's names for it go, so that preparing again works.
      if (e.on_success == ReplyAction::Skip && e.stmt)
        std::erase_if(names_, [&](const auto& kv) { return kv.second == e.stmt; });
      break;
    case Kind::Close:
      abandoned(e, server);
      break;
    case Kind::Bind:
    case Kind::Describe:
      // The table under a shared statement changed shape: nobody may use it again. Whoever binds
      // this text next gets a fresh statement under a new name.
      if (e.stmt && stale_error(error_body)) registry_.refresh(e.stmt);
      break;
    default:
      break;
  }
}

ReplyDecision Tracker::decide(Expect& e, ReplyAction success) {
  if (success != ReplyAction::Replace) return {success, {}};
  scratch_ = e.extra ? std::move(e.extra->replacement) : std::string();
  return {ReplyAction::Replace, scratch_};
}

bool Tracker::hold_for_retry(std::span<const uint8_t> error_body) {
  if (group_forwarded_ || !stale_error(error_body)) return false;
  // The retry happens at the group's end: its Sync, or the Query itself.
  for (auto& e : pending_) {
    if (e.kind == Kind::Sync || e.kind == Kind::Query || e.kind == Kind::Call) {
      if (e.rare().retry.empty() || e.kind == Kind::Call) return false;
      e.extra->held_error.clear();
      proto::Writer(e.extra->held_error).begin('E').raw(error_body).end();
      return true;
    }
  }
  return false;
}

ReplyDecision Tracker::on_server_message(char type, std::span<const uint8_t> body, ServerStatements& server) {
  if (type == 'N' || type == 'S' || type == 'A') return {};  // asynchronous: answer nothing
  if (type == 'Z' && !pending_.empty() && !pending_.front().rare().held_error.empty()) {
    Expect e = std::move(pending_.front());
    pending_.pop_front();
    group_forwarded_ = false;
    // Outside a transaction block (the failed implicit transaction is gone), with nothing sent
    // after this group, the same messages can simply run again with a fresh statement.
    if (!body.empty() && body[0] == 'I' && pending_.empty()) {
      // The group's Parses of statements the server had are made again, fresh, by the retry.
      for (auto& [name, stmt] : held_names_)
        if (auto it = names_.find(name); it != names_.end() && it->second == stmt) names_.erase(it);
      held_.clear();
      held_names_.clear();
      scratch_ = std::move(e.extra->retry);
      return {ReplyAction::Retry, scratch_};
    }
    scratch_ = std::move(held_);
    held_.clear();
    held_names_.clear();
    scratch_ += e.extra->held_error;
    proto::ready_for_query(scratch_, body.empty() ? 'I' : char(body[0]));
    return {ReplyAction::Replace, scratch_};
  }
  ReplyDecision d = reply_for(type, body, server);
  if (!held_.empty() && (d.action == ReplyAction::Forward || d.action == ReplyAction::Replace)) {
    // The held ParseCompletes go out just before the first reply the client sees after them.
    std::string out = std::move(held_);
    held_.clear();
    held_names_.clear();
    if (d.action == ReplyAction::Replace)
      out.append(d.replacement);
    else
      proto::Writer(out).begin(type).raw(body).end();
    scratch_ = std::move(out);
    d = {ReplyAction::Replace, scratch_};
  }
  if (d.action == ReplyAction::Forward || d.action == ReplyAction::Replace) group_forwarded_ = type != 'Z';
  return d;
}

bool Tracker::stale_error(std::span<const uint8_t> error_body) {
  auto fields = proto::parse_error_fields(error_body);
  if (!fields) return false;
  auto code = proto::error_field(*fields, 'C');
  // "cached plan must not change result type" (a table changed shape), or a parameter type that
  // was dropped since the statement was prepared ("cache lookup failed for type N").
  return code == "0A000" ||
         (code == "XX000" && proto::error_field(*fields, 'M').starts_with("cache lookup failed for type"));
}

ReplyDecision Tracker::reply_for(char type, std::span<const uint8_t> body, ServerStatements& server) {
  if (pending_.empty()) return {};  // e.g. a FATAL before the server closes
  Expect& head = pending_.front();
  auto pop = [&](ReplyAction success) {
    Expect e = std::move(pending_.front());
    pending_.pop_front();
    return decide(e, success);
  };
  switch (type) {
    case 'E': {
      if (head.kind == Kind::Query || head.kind == Kind::Call || head.kind == Kind::Sync) {
        // Simple query: its ReadyForQuery still comes. Sync: an error ending the implicit
        // transaction (a deferred constraint, say).
        if (head.kind == Kind::Query && head.replace_error) return decide(head, ReplyAction::Replace);
        if (head.kind == Kind::Query && head.server_new) {
          abandoned(head, server);  // a SQL PREPARE the server refused: no statement, no name
          head.server_new = false;
        }
        if (head.kind == Kind::Query && head.stmt && stale_error(body)) {
          registry_.refresh(head.stmt);
          if (hold_for_retry(body)) return {ReplyAction::Skip, {}};
        }
        return {};
      }
      Expect e = std::move(head);
      pending_.pop_front();
      failed(e, server, body);
      // PostgreSQL ignores everything up to the next Sync.
      while (!pending_.empty() && pending_.front().kind != Kind::Sync) {
        abandoned(pending_.front(), server);
        pending_.pop_front();
      }
      // No Sync sent yet: what the client sends until it is ignored as well.
      if (pending_.empty()) skipping_ = true;
      if (e.replace_error) return decide(e, ReplyAction::Replace);
      if ((e.kind == Kind::Bind || e.kind == Kind::Describe) && e.stmt && hold_for_retry(body))
        return {ReplyAction::Skip, {}};
      return {};
    }
    case 'Z':
      if (head.kind != Kind::Sync && head.kind != Kind::Query && head.kind != Kind::Call) return {ReplyAction::Desync, {}};
      return pop(head.on_success);
    case '1':
      if (head.kind != Kind::Parse) return {ReplyAction::Desync, {}};
      return pop(head.on_success);
    case '2':
      if (head.kind != Kind::Bind) return {ReplyAction::Desync, {}};
      return pop(head.on_success);
    case '3':
      if (head.kind != Kind::Close) return {ReplyAction::Desync, {}};
      if (head.on_success == ReplyAction::Replace && head.stmt && !group_forwarded_) {
        // A Parse of a statement the server already had: its ParseComplete waits for the next
        // reply, so that if that statement turns out stale the group can still run again.
        Expect e = std::move(pending_.front());
        pending_.pop_front();
        held_ += e.rare().replacement;
        held_names_.emplace_back(e.extra ? std::move(e.extra->client_name) : std::string(), std::move(e.stmt));
        return {ReplyAction::Skip, {}};
      }
      return pop(head.on_success);
    case 't':
      if (head.kind != Kind::Describe) return {ReplyAction::Desync, {}};
      return {};
    case 'T':
    case 'n':
      if (head.kind == Kind::Describe) return pop(head.on_success);
      return {};
    case 'C': {
      // Whatever way it came (a multi-statement string, an extended-protocol Execute), these
      // emptied the server of every prepared statement, and the client of its names.
      auto tag = proto::parse_command_complete(body);
      if (tag && (*tag == "DISCARD ALL" || *tag == "DEALLOCATE ALL")) {
        server.clear();
        names_.clear();
      }
      if (head.kind == Kind::Execute) return pop(head.on_success);
      return {};
    }
    case 's':
      if (head.kind == Kind::Execute) return pop(head.on_success);
      return {};
    case 'I':
      if (head.kind == Kind::Execute) return pop(head.on_success);
      if (head.kind == Kind::Query && !head.replace_error && !head.rare().replacement.empty())
        return decide(head, ReplyAction::Replace);
      return {};
    default:  // DataRow, COPY traffic, FunctionCallResponse, RowDescription within a query
      return {};
  }
}

}  // namespace pgopt::pooler::prepared
