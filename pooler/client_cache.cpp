// The relay's result cache (docs/result-cache.md, "Wiring"): a lone cacheable simple-protocol
// Query or extended-protocol execution answered from the store without a server, the fill of a miss from the server's reply, and
// the invalidation of every write the session forwards, applied before the message that commits it
// reaches the client. Every function here runs only while cache_ is set.
#include <optional>
#include <string_view>
#include <vector>

#include "pooler/client_session.hpp"
#include "pooler/log.hpp"
#include "pooler/routing/hints.hpp"
#include "sql/cache_writes.hpp"
#include "sql/cacheability.hpp"
#include "sql/lex.hpp"
#include "sql/parser.hpp"
#include "sql/pooler_settings.hpp"

namespace pgopt::pooler {

namespace proto = pgopt::protocol;

namespace {

std::string_view text_of(const proto::Frame& query) {
  // A validated Query ends with its NUL.
  return {reinterpret_cast<const char*>(query.body.data()), query.body.size() - 1};
}

// A server message whole again (type, length, body), as ReplyCapture and the store keep it.
std::string whole_message(char type, std::span<const uint8_t> body) {
  std::string m;
  m.reserve(body.size() + 5);
  const uint32_t len = uint32_t(body.size() + 4);
  m.push_back(type);
  for (int shift = 24; shift >= 0; shift -= 8) m.push_back(char((len >> shift) & 0xff));
  m.append(reinterpret_cast<const char*>(body.data()), body.size());
  return m;
}

// The one extended-protocol shape the cache serves (CacheExtended): [Parse ""] Bind(portal "")
// [Describe portal ""] Execute("", all rows) Sync, nothing else. A Sync the server would ignore
// only happens during COPY, which needs a server attached: not here.
std::optional<CacheExtended> extended_request(std::span<const proto::Frame> items,
                                              const prepared::Tracker* prepared) {
  namespace fe = proto::frontend;
  CacheExtended r;
  size_t i = 0;
  auto next_is = [&](char type) { return i < items.size() && items[i].type == type; };
  if (next_is(fe::kParse)) {
    auto p = proto::parse_parse(items[i++].body);
    if (!p || !p->name.empty()) return std::nullopt;  // a named Parse must reach the server's tracker
    r.text = p->query;
    r.param_types.assign(p->param_types.begin(), p->param_types.end());
    r.parse = true;
  }
  if (!next_is(fe::kBind)) return std::nullopt;
  auto b = proto::parse_bind(items[i++].body);
  if (!b || !b->portal.empty() || (r.parse && !b->statement.empty())) return std::nullopt;
  if (!r.parse) {
    // Without a Parse: a named statement whose text the pooler keeps.
    const prepared::Statement* st = prepared && !b->statement.empty() ? prepared->statement_for(b->statement) : nullptr;
    if (!st) return std::nullopt;
    r.text = st->query;
    r.param_types.assign(st->param_types.begin(), st->param_types.end());
  }
  r.bind = std::move(*b);
  if (next_is(fe::kDescribe)) {
    auto d = proto::parse_named_target(items[i++].body);
    if (!d || d->kind != 'P' || !d->name.empty()) return std::nullopt;
    r.describe = true;
  }
  if (!next_is(fe::kExecute)) return std::nullopt;
  auto e = proto::parse_execute(items[i++].body);
  if (!e || !e->portal.empty() || e->max_rows != 0) return std::nullopt;  // a row limit: a partial answer
  if (!next_is(fe::kSync) || i + 1 != items.size()) return std::nullopt;
  return r;
}

}  // namespace

size_t ClientSession::cache_lookup(std::span<const BatchItem> items) {
  cache_->fill.reset();
  // Only a transaction-mode client between transactions: no server attached, no BEGIN held back.
  // So never inside a transaction block, where an answer may depend on the block's own writes.
  if (items.empty() || server_ || split_memory_.begin_pending) return 0;
  const size_t used = items.back().offset + items.back().size;
  if (items.size() == 1 && items[0].frame.type == proto::frontend::kQuery) {
    const std::string_view text = text_of(items[0].frame);
    return cache_setting(text) || cache_answer(text, nullptr) ? used : 0;
  }
  if (cache_->use == SessionCache::Use::Off) return 0;
  if (items[0].frame.type != proto::frontend::kParse && items[0].frame.type != proto::frontend::kBind) return 0;
  awake_->batch_.frames.clear();
  for (const auto& it : items) awake_->batch_.frames.push_back(it.frame);
  const std::optional<CacheExtended> req = extended_request(awake_->batch_.frames, prepared_.get());
  if (!req) return 0;
  // What a later Bind of the unnamed statement runs, had the server seen this Parse.
  if (req->parse) cache_->unnamed_text.assign(req->text);
  return cache_answer(req->text, &*req) ? used : 0;
}

// A hit answered into io_.out (true), or a fill armed for the server's reply, or nothing to do.
bool ClientSession::cache_answer(std::string_view text, const CacheExtended* ext) {
  SessionCache& sc = *cache_;
  cache::ResultCache& rc = *sc.shared;
  if (sc.use == SessionCache::Use::Off) return false;
  // Without rules only a hinted statement can be cached: the lexical hint scan spares the parse.
  if (rc.rules.slot_count() == 1 && !sql::cache_hint(text)) return false;
  const sql::Cacheability& c = worker_.cache_facts.cacheability(text, {rc.stable_functions});
  if (c.hint && !c.hint->error.empty()) {
    // Said to the client, not only to the log: a mistyped hint must not look like a cache that works.
    sc.hint_warning = "pgopt: the statement's cache hint is not valid, so its result is not cached: " + c.hint->error;
    return false;
  }
  if (!c.cacheable) return false;
  std::string fingerprint;
  if (rc.uses_fingerprints) {
    if (auto fp = sql::fingerprint(text).value) fingerprint = sql::fingerprint_hex(*fp);
  }
  std::optional<std::chrono::milliseconds> hint_ttl;
  if (c.hint) hint_ttl = c.hint->ttl;
  const auto m = rc.rules.match({fingerprint, c.tables, database(), user(), hint_ttl});
  if (!m) return false;
  // The key: database, user, role and every output setting as this session has them.
  std::vector<std::optional<std::string_view>> settings;
  settings.reserve(cache::output_settings().size());
  for (std::string_view name : cache::output_settings()) {
    const GucEntry* e = want_.find(name);
    settings.push_back(e ? std::optional<std::string_view>(e->value) : std::nullopt);
  }
  const GucEntry* role = want_.find("role");
  std::vector<std::optional<std::string_view>> params;
  cache::KeyInput in;
  in.database = database();
  in.user = user();
  in.role = role ? std::string_view(role->value) : std::string_view{};
  in.settings = settings;
  in.statement = text;
  if (ext) {
    params.reserve(ext->bind.params.size());
    for (const auto& v : ext->bind.params)
      params.push_back(v ? std::optional<std::string_view>(std::string_view(reinterpret_cast<const char*>(v->data()), v->size()))
                         : std::nullopt);
    in.param_types = ext->param_types;
    in.param_formats = ext->bind.param_formats;
    in.params = params;
    in.result_formats = ext->bind.result_formats;
  }
  cache::Key key(in);
  const auto now = cache::Clock::now();
  cache::Hit hit = rc.store.lookup(key, m->index, now, &sc.commits);
  if (hit.reply) {
    cache_reply(*hit.reply, ext);
    worker_.capture.record_cache_hit(database(), text);
    return true;
  }
  sc.fill.emplace(SessionCache::Fill{std::move(key), c.tables, m->index, now + m->ttl, rc.store.begin_fill(),
                                     cache::ReplyCapture(rc.store.limits().max_entry_size)});
  return false;
}

namespace {

// PostgreSQL's spellings of a boolean setting (parse_bool): true, false, yes, no, on, off, 1, 0 and
// unique prefixes of the words, case-insensitive; surrounding blanks allowed.
std::optional<bool> parse_bool(std::string_view v) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!v.empty() && blank(v.front())) v.remove_prefix(1);
  while (!v.empty() && blank(v.back())) v.remove_suffix(1);
  if (v.empty()) return std::nullopt;
  auto prefix_of = [&](std::string_view word, size_t min) {
    return v.size() >= min && v.size() <= word.size() && routing::word_is(v, word.substr(0, v.size()));
  };
  if (prefix_of("true", 1) || prefix_of("yes", 1) || prefix_of("on", 2) || v == "1") return true;
  if (prefix_of("false", 1) || prefix_of("no", 1) || prefix_of("off", 2) || v == "0") return false;
  return std::nullopt;
}

}  // namespace

// SET / RESET / SHOW pgopt.cache sent on its own between transactions: answered into io_.out (true).
// Like pgopt.route it is the pooler's own setting, not transactional; inside a transaction block it
// goes to the server, which takes any pgopt.* name as a placeholder, and changes nothing here (the
// cache is never used inside a block).
bool ClientSession::cache_setting(std::string_view text) {
  using Kind = sql::PoolerSettingCommand::Kind;
  const size_t body = sql::lex::leading_comments(text, [](const sql::lex::LeadingComment&) {});
  if (body == sql::lex::kUnclosed) return false;
  const std::string_view word = routing::first_word(text, body);
  if (!routing::word_is(word, "set") && !routing::word_is(word, "reset") && !routing::word_is(word, "show"))
    return false;
  if (!sql::may_name_pooler_setting(text.substr(body))) return false;
  const sql::PoolerSettingCommand cmd = sql::pooler_setting_command(text);
  if (cmd.kind == Kind::None || cmd.name != "pgopt.cache") return false;
  std::string& out = awake_->io_.out;
  out.clear();
  auto fail = [&](std::string_view sqlstate, std::string_view message, std::string_view hint) {
    proto::error_response(out, "ERROR", sqlstate, message, {}, hint);
    proto::ready_for_query(out, 'I');
    return true;
  };
  SessionCache& sc = *cache_;
  switch (cmd.kind) {
    case Kind::Set: {
      const std::optional<bool> on = cmd.values.size() == 1 ? parse_bool(cmd.values[0]) : std::nullopt;
      if (!on)
        return fail("22023", "parameter \"pgopt.cache\" requires a Boolean value", "Use on or off.");
      sc.use = *on ? SessionCache::Use::On : SessionCache::Use::Off;
      proto::command_complete(out, "SET");
      break;
    }
    case Kind::SetDefault:
    case Kind::Reset:
      sc.use = SessionCache::Use::On;
      proto::command_complete(out, cmd.kind == Kind::Reset ? "RESET" : "SET");
      break;
    case Kind::SetFromCurrent:
      proto::command_complete(out, "SET");
      break;
    case Kind::Show:
      proto::row_description(out, {"pgopt.cache"});
      proto::data_row(out, {std::string(sc.use == SessionCache::Use::On ? "on" : "off")});
      proto::command_complete(out, "SHOW");
      break;
    case Kind::SetLocal:
      return fail("0A000", "SET LOCAL pgopt.cache is not supported",
                  "The cache is never used inside a transaction block; use SET pgopt.cache for the session.");
    default:
      return fail("0A000", "\"pgopt.cache\" can only be set, reset or shown by a statement sent on its own",
                  "Send the SET, RESET or SHOW as a separate query.");
  }
  proto::ready_for_query(out, 'I');
  return true;
}

// A hit as the server would have answered the client's messages.
void ClientSession::cache_reply(std::string_view reply, const CacheExtended* ext) {
  std::string& out = awake_->io_.out;
  out.clear();
  if (ext) {
    if (ext->parse) proto::parse_complete(out);
    proto::bind_complete(out);
    // No Describe: the server would have sent no RowDescription either.
    if (!ext->describe) reply.remove_prefix(cache::row_description_size(reply));
  }
  out.append(reply);
  proto::ready_for_query(out, 'I');
}

void ClientSession::cache_note_client(const proto::Frame& f, Noted noted) {
  namespace fe = proto::frontend;
  SessionCache& sc = *cache_;
  if (binding_.db != sc.options_of) {
    // Copied once per database config (a reload gives a new one), not per statement.
    sc.options_of = binding_.db;
    sc.options = {};
    if (binding_.db) {
      sc.options.write_functions = binding_.db->write_functions;
      sc.options.read_only_functions = binding_.db->read_only_functions;
    }
    sc.options_key = sql::options_key(sc.options);
  }
  auto writes = [&](std::string_view text) {
    const sql::WrittenTables& w = worker_.cache_facts.written_tables(text, sc.options, sc.options_key);
    if (w.any()) sc.tracker.on_writes(w.tables, w.all);
  };
  switch (f.type) {
    case fe::kQuery:
      writes(text_of(f));
      break;
    case fe::kFunctionCall:
      sc.tracker.on_writes({}, true);  // a function by OID: the pooler cannot tell what it writes
      break;
    case fe::kParse:
      // Noted when a Bind runs it: a named statement may run in many later requests.
      if (auto p = proto::parse_text(f.body); p && p->name.empty()) sc.unnamed_text.assign(p->query);
      break;
    case fe::kBind: {
      auto name = proto::bind_statement_name(f.body);
      if (!name) break;
      if (name->empty()) {
        writes(sc.unnamed_text);
      } else if (const prepared::Statement* st = prepared_ ? prepared_->statement_for(*name) : nullptr) {
        writes(st->query);
      } else {
        sc.tracker.on_writes({}, true);  // a statement whose text the pooler does not keep: anything
      }
      break;
    }
    default:
      break;
  }
  // Each of these is answered by one ReadyForQuery (TxTracker's outstanding requests).
  if ((f.type == fe::kQuery || f.type == fe::kSync || f.type == fe::kFunctionCall) && noted == Noted::Sent)
    sc.tracker.end_request();
}

void ClientSession::cache_on_reply(char type, std::span<const uint8_t> body, bool from_replica) {
  namespace be = proto::backend;
  SessionCache& sc = *cache_;
  // The fill's reply ends at its ReadyForQuery, which the cache does not keep (a hit makes its own).
  if (sc.fill && type != be::kReadyForQuery) sc.fill->capture.on_message(whole_message(type, body));
  if (type == be::kCommandComplete) {
    const size_t n = body.empty() ? 0 : body.size() - 1;  // without its NUL
    sc.apply(sc.tracker.on_command_complete({reinterpret_cast<const char*>(body.data()), n}));
  } else if (type == be::kReadyForQuery) {
    const char status = body.empty() ? 'I' : char(body[0]);
    sc.apply(sc.tracker.on_ready_for_query(status));
    if (sc.fill) {
      SessionCache::Fill& f = *sc.fill;
      // A replica may not have replayed a commit already invalidated for: its answer is not kept.
      if (!f.capture.complete() || from_replica || status != 'I') {
        log::debug("{} result cache: reply not stored: {}", tag(),
                   !f.capture.complete() ? f.capture.why_not() : from_replica ? "from a replica" : "a transaction is open");
      } else {
        sc.shared->store.put(f.key, f.tables, f.capture.take(), f.expires, f.rule, f.ticket);
      }
      sc.fill.reset();
    }
  }
}

void ClientSession::cache_server_lost() {
  SessionCache& sc = *cache_;
  sc.fill.reset();
  sc.apply(sc.tracker.on_server_lost());
}

}  // namespace pgopt::pooler
