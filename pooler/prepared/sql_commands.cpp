// PREPARE / EXECUTE / DEALLOCATE sent as the text of an unnamed Parse, kept on the client's names,
// and the guard that keeps a client's text away from the pooler's server-side names.
#include "pooler/prepared/tracker.hpp"

#include <cstdint>

#include "sql/prepared_commands.hpp"

namespace pgopt::pooler::prepared {

namespace proto = pgopt::protocol;
using namespace detail;

void detail::unnamed_parse(std::string& out, std::string_view text, std::span<const int32_t> types) {
  proto::Writer w(out);
  w.begin('P').cstr("").cstr(text).i16(int16_t(types.size()));
  for (int32_t t : types) w.i32(t);
  w.end();
}

namespace {

std::string command_complete(std::string_view tag) {
  std::string out;
  proto::command_complete(out, tag);
  return out;
}

}  // namespace

std::string Tracker::reserved_name_error(std::string_view sql) {
  if (!sql::may_be_prepared_command(sql)) return {};
  for (const auto& c : sql::prepared_commands_in(sql)) {
    if (!reserved_statement_name(c.name)) continue;
    // EXECUTE and DEALLOCATE of a name the client never prepared: PostgreSQL's own answer. PREPARE
    // of one would collide with the pooler's statement of that name on this server.
    if (c.kind != sql::PreparedCommand::Kind::Prepare) return missing_statement_error(c.name);
    std::string out;
    proto::error_response(out, "ERROR", "42939",
                          "prepared statement names starting with \"pgopt_\" are reserved by the pooler (\"" + c.name +
                              "\")");
    return out;
  }
  return {};
}

bool Tracker::on_command_parse(const proto::ParseMsg& p, ServerStatements& server, size_t capacity, std::string& out) {
  auto cmd = sql::prepared_command(p.query);
  using K = sql::PreparedCommand::Kind;
  using Op = SqlCommand::Op;
  auto fail = [&](std::string error) {
    // Fails at its Execute, as PostgreSQL's own DEALLOCATE of a missing statement does.
    unnamed_parse(out, "DEALLOCATE " + std::string(kNoStatement));
    pending_.push_back(Expect{.kind = Kind::Parse});
    unnamed_command_ = SqlCommand{.op = Op::Fail, .reply = std::move(error)};
    return true;
  };
  // Runs nothing on the server; the Execute's EmptyQueryResponse becomes the command's tag.
  auto empty = [&](SqlCommand c) {
    unnamed_parse(out, "");
    pending_.push_back(Expect{.kind = Kind::Parse});
    unnamed_command_ = std::move(c);
    return true;
  };
  switch (cmd.kind) {
    case K::Deallocate:
      if (names_.contains(cmd.name))
        return empty(SqlCommand{.op = Op::Deallocate, .name = cmd.name, .reply = command_complete("DEALLOCATE")});
      // Not the client's: the server's own "does not exist" names it, unless it is one of ours.
      if (!reserved_statement_name(cmd.name)) return false;
      return fail(missing_statement_error(cmd.name));
    case K::DeallocateAll:
      return empty(SqlCommand{.op = Op::DeallocateAll, .reply = command_complete("DEALLOCATE ALL")});
    case K::Execute: {
      StatementPtr s = executable(resolve(cmd.name));
      if (!s) return reserved_statement_name(cmd.name) ? fail(missing_statement_error(cmd.name)) : false;
      ensure_on_server(s, server, capacity, out);
      std::string_view text = p.query;
      unnamed_parse(out,
                    std::string(text.substr(0, cmd.name_begin)) + s->server_name + std::string(text.substr(cmd.name_end)),
                    p.param_types);
      pending_.push_back(Expect{.kind = Kind::Parse});
      return true;
    }
    case K::Prepare: {
      if (names_.contains(cmd.name)) return fail(duplicate_statement_error(cmd.name));
      StatementPtr s = intern_prepare(p.query, cmd.name_begin, cmd.name_end);
      if (current_on_server(s, server, out))
        return empty(SqlCommand{.op = Op::Prepare, .name = cmd.name, .stmt = s, .reply = command_complete("PREPARE")});
      unnamed_parse(out, s->prepare_sql, p.param_types);
      pending_.push_back(Expect{.kind = Kind::Parse});
      unnamed_command_ = SqlCommand{.op = Op::Prepare, .name = cmd.name, .stmt = std::move(s), .server_new = true};
      return true;
    }
    default:
      return false;
  }
}

void Tracker::on_command_bind(std::string_view portal, std::string_view statement) {
  if (portal_command_ && portal == command_portal_) portal_command_.reset();  // the portal is replaced
  if (statement.empty() && unnamed_command_) {
    portal_command_ = unnamed_command_;
    command_portal_.assign(portal);
  }
}

bool Tracker::is_sql_command(std::string_view text) {
  if (!sql::may_be_prepared_command(text)) return false;
  using K = sql::PreparedCommand::Kind;
  switch (sql::prepared_command(text).kind) {
    case K::Prepare:
    case K::Execute:
    case K::Deallocate:
    case K::DeallocateAll:
      return true;
    default:
      return false;
  }
}

bool Tracker::mark_sql_command(const StatementPtr& s, std::string_view text) {
  if (!is_sql_command(text) && !mentions_statement_view(text)) return false;
  s->sql_command.store(true, std::memory_order_relaxed);
  return true;
}

void Tracker::use_sql_command(const proto::Frame& f, const StatementPtr& s, ServerStatements& server, size_t capacity,
                              std::string& out) {
  // The unnamed statement is taken over, as ensure_on_server does for SQL-level statements: the
  // text must be looked at again at each use, since the client's names change in between.
  unnamed_command_.reset();
  proto::ParseMsg p{.name = "", .query = s->query, .param_types = s->param_types};
  if (!on_command_parse(p, server, capacity, out)) {
    // A text reading pg_prepared_statements: the client's view as of this Bind or Describe. Else a
    // name the client does not have (and not one of ours): the server's own answer names it.
    auto viewed = with_own_statement_view(s->query);
    unnamed_parse(out, viewed ? std::string_view(*viewed) : std::string_view(s->query), s->param_types);
    pending_.push_back(Expect{.kind = Kind::Parse});
  }
  pending_.back().on_success = ReplyAction::Skip;  // the client sent no Parse here
  proto::Reader r(f.body);
  proto::Writer w(out);
  if (f.type == 'B') {
    std::string_view portal = r.cstr();
    r.cstr();
    w.begin('B').cstr(portal).cstr("").raw(r.rest()).end();
    on_command_bind(portal, "");
    pending_.push_back(Expect{.kind = Kind::Bind});
  } else {
    r.u8();
    r.cstr();
    w.begin('D').u8('S').cstr("").raw(r.rest()).end();
    pending_.push_back(Expect{.kind = Kind::Describe});
  }
}

StatementPtr Tracker::intern_prepare(std::string_view text, size_t name_begin, size_t name_end) {
  // A statement that reads pg_prepared_statements reads the client's view as of this PREPARE (the
  // server runs it under a pgopt_* name, where the bare view would show every client's statements).
  // Only relation references after the name change, so the name stays where it was.
  auto viewed = mentions_statement_view(text.substr(name_end)) ? with_own_statement_view(text) : std::nullopt;
  if (viewed && viewed->compare(0, name_end, text.substr(0, name_end)) == 0) text = *viewed;
  return registry_.intern_sql(text.substr(0, name_begin), text.substr(name_end));
}

StatementPtr Tracker::executable(StatementPtr s) {
  // SQL EXECUTE of a protocol-level statement that reads pg_prepared_statements (the server never
  // has it, see mark_sql_command): the shared statement of the client's view as of this EXECUTE.
  if (!s || !s->sql_command.load(std::memory_order_relaxed) || !s->prepare_sql.empty()) return s;
  if (is_sql_command(s->query)) return s;
  auto viewed = with_own_statement_view(s->query);
  return viewed ? registry_.intern(*viewed, s->param_types) : s;
}

bool Tracker::on_command_portal(const proto::Frame& f, ServerStatements& server) {
  proto::Reader r(f.body);
  if (f.type == 'D' && r.u8() != 'P') return false;
  if (r.cstr() != command_portal_) return false;
  using Op = SqlCommand::Op;
  if (f.type == 'D') {
    if (portal_command_->op != Op::Fail) return false;
    pending_.push_back(replaced(Kind::Describe, portal_command_->reply, true));
    return true;
  }
  SqlCommand c = std::move(*portal_command_);
  portal_command_.reset();  // runs once: executing it again is the server's business
  Expect e = replaced(Kind::Execute, std::move(c.reply), false, ReplyAction::Replace);
  switch (c.op) {
    case Op::Deallocate:
      if (auto it = names_.find(c.name); it != names_.end()) {
        e.extra->restore.emplace_back(c.name, std::move(it->second));
        names_.erase(it);
      }
      break;
    case Op::DeallocateAll:
      for (auto& [name, stmt] : names_) e.extra->restore.emplace_back(name, std::move(stmt));
      names_.clear();
      break;
    case Op::Prepare:
      names_[c.name] = c.stmt;
      e.extra->client_name = c.name;
      e.stmt = c.stmt;
      if (c.server_new) {
        e.on_success = ReplyAction::Forward;  // the server's own PREPARE reply
        std::vector<StatementPtr> none;
        if (!server.has(*c.stmt)) {
          // Over capacity until the next statement this client adds evicts the oldest: an
          // eviction's Close cannot be put before an Execute already decided.
          server.add(c.stmt, SIZE_MAX, none);
          e.server_new = true;
        }
      }
      break;
    case Op::Fail:
      e.on_success = ReplyAction::Forward;
      e.replace_error = true;
      break;
  }
  pending_.push_back(std::move(e));
  return true;
}

}  // namespace pgopt::pooler::prepared
