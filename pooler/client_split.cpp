// Read/write splitting in the relay: each batch routed by its statements (pooler/routing/), the
// pooler's own answers (SET/SHOW pgopt.route, routing errors), the choice of a replica with
// read-your-writes, and the one retry of a read whose replica broke before answering.
#include <fmt/format.h>

#include <cctype>
#include <cstring>

#include "pooler/client_session.hpp"
#include "pooler/log.hpp"
#include "sql/transaction_modes.hpp"

namespace pgopt::pooler {

namespace proto = pgopt::protocol;
using routing::Decision;

void ClientSession::refresh_split(const std::shared_ptr<const Config>& cfg) {
  SplitPlanner& split = awake_->split_;
  if (cfg == split.config()) return;
  const DatabaseConfig* db = cfg->find_database(database());
  auto set = db && mode_ == PoolMode::Transaction && split_active(*cfg, *db) ? rt_.splits.find(database()) : nullptr;
  split.refresh(cfg, db, std::move(set));
}

Pool& ClientSession::replica_pool(int index) {
  Pool*& p = awake_->split_.replica_pool(index);
  if (!p) p = &rt_.pools.get(database(), user(), node_key(awake_->split_.replicas()->endpoints()[size_t(index)]));
  return *p;
}

void ClientSession::replica_failed(const ServerPtr& s, std::string_view why) {
  if (!s->replica_set) return;
  const auto& ep = s->replica_set->endpoints()[size_t(s->replica_index)];
  if (s->replica_set->ban(s->replica_index, routing::SteadyClock::now()))
    log::warn("{} replica {}:{} failed ({}): no reads for {} ms", tag(), ep.host, ep.port, why,
              s->replica_set->options().ban_time.count());
  // Its other pooled connections are most likely dead too: nobody should be handed one.
  drop_idle_servers(rt_, database(), node_key(ep));
}

bool ClientSession::settled() const {
  if (gone()) return true;
  if (awake_->split_.retry().moving()) return false;
  return !server_ || (!awake_->tx_.busy() && awake_->tx_.status() != session::TxStatus::Idle);
}

awaitable<void> ClientSession::wait_settled() {
  while (!settled()) {
    co_await wait_notified();
  }
}

awaitable<void> ClientSession::wait_replies_below(int limit) {
  while (server_ && !gone() && awake_->tx_.outstanding() > limit) {
    co_await wait_notified();
  }
}

awaitable<void> ClientSession::wait_notified() {
  Awake::Waits::Settle& w = awake_->waits_.settle;
  w.waiting = true;
  if (!w.timer) w.timer = std::make_unique<asio::steady_timer>(executor());
  w.timer->expires_at(asio::steady_timer::time_point::max());
  co_await w.timer->async_wait(nothrow);
  w.waiting = false;  // awake_ stays: parking happens only in client_loop's read, not while it waits here
}

void ClientSession::notify_settled() {
  if (awake_->waits_.settle.waiting && awake_->waits_.settle.timer) awake_->waits_.settle.timer->cancel();
}

namespace {

// BEGIN, BEGIN WORK/TRANSACTION, START TRANSACTION, with no options, comments or other statements.
struct Rewrite {
  size_t item;  // index of the message in the batch
  size_t at;    // offset of its text in the batch
  std::string text;
};

}  // namespace

// What one message of a batch gives the router: the SQL text of a Query, a Parse, or a Bind of a
// statement known here; Opaque for what could be anything (a FunctionCall, or a Bind of a statement
// not tracked); Sync; Skip for the rest. `text_at`: where the text sits in the message when it may
// be rewritten in place (0: it may not).
ClientSession::RoutedText ClientSession::routed_text(std::span<const uint8_t> data, const BatchItem& it) const {
  const proto::Frame& f = it.frame;
  switch (f.type) {
    case proto::frontend::kQuery:  // validated: NUL-terminated
      return {RoutedText::Kind::Text, {reinterpret_cast<const char*>(f.body.data()), f.body.size() - 1}, 5};
    case proto::frontend::kParse: {
      auto p = proto::parse_text(f.body);
      if (!p) return {};  // validated before: cannot happen
      // A named statement's hint is blanked by the prepared-statement registry, which keeps the
      // text with its hint for routing each execution.
      size_t at = 0;
      if (p->name.empty() || !prepared_)
        at = size_t(reinterpret_cast<const uint8_t*>(p->query.data()) - (data.data() + it.offset));
      return {RoutedText::Kind::Text, p->query, at};
    }
    case proto::frontend::kBind: {
      auto statement = proto::bind_statement_name(f.body);
      if (!statement || statement->empty()) return {};  // the unnamed statement: its Parse decided
      const prepared::Statement* st = prepared_ ? prepared_->statement_for(*statement) : nullptr;
      if (!st) return {.kind = RoutedText::Kind::Opaque};  // not known here (tracking is off)
      return {RoutedText::Kind::Text, st->query, 0};
    }
    case proto::frontend::kFunctionCall:  // by OID: it could write
      return {.kind = RoutedText::Kind::Opaque};
    case proto::frontend::kSync:
      return {.kind = RoutedText::Kind::Sync};
    default:
      return {};
  }
}

// A statement at the start of the batch that the pooler answers or refuses itself (`d`), into io_.out:
// a Query alone, or an extended-protocol group through its Sync (NeedMore until it is all here).
ClientSession::Plan ClientSession::answer_planned(std::span<uint8_t> data, std::span<const BatchItem> items, char type,
                                                  const Decision& d) {
  Plan plan;
  plan.kind = Plan::Kind::Answered;
  awake_->io_.out.clear();
  if (d.action == Decision::Action::Fail) {
    plan.consumed = fail_group(data, items, d.error);
    return plan;
  }
  // The group the statement is in, through its Sync, must be complete to be answered.
  size_t end = items.size();
  size_t statements = 0;
  bool others = false;
  for (size_t j = 0; j < items.size(); ++j) {
    const char t = char(data[items[j].offset]);
    if (t == 'P' || t == 'B') ++statements;
    if (t == 'Q' || t == 'F') others = true;
    if (t == 'S') {
      end = j + 1;
      break;
    }
  }
  if (type != 'Q' && (end == items.size() && char(data[items[end - 1].offset]) != 'S')) {
    plan.kind = Plan::Kind::NeedMore;
    return plan;
  }
  const bool single = type == 'Q' || (statements <= 2 && !others);
  plan.consumed = answer_group(data, items.first(type == 'Q' ? 1 : end), d, single);
  return plan;
}

// Decides where a batch of client messages goes, one statement at a time. A batch goes to a
// replica only if every statement in it may; a statement the pooler answers itself (or refuses)
// splits the batch: what comes before it is sent first.
awaitable<ClientSession::Plan> ClientSession::plan_batch(std::span<uint8_t> data, std::span<const BatchItem> items,
                                                         size_t ready) {
  Plan plan;
  plan.ready = ready;
  plan.items = items.size();
  SplitPlanner& split = awake_->split_;
  routing::Router& router = worker_router(worker_, split.config(), split.database());
  const routing::ClientState cs =
      split.routing_state(want_, server_ && awake_->tx_.status() != session::TxStatus::Idle);
  if (!server_ && !split_memory_.begin_pending && cs.route == routing::Route::Auto && !cs.default_read_only &&
      char(data[0]) == 'Q' && sql::is_bare_begin({reinterpret_cast<const char*>(data.data()) + 5, items[0].size - 6})) {
    // Hold a plain BEGIN back: the transaction's first statement decides where it runs.
    split_memory_.begin_pending = true;
    awake_->io_.out.clear();
    proto::command_complete(awake_->io_.out, "BEGIN");
    proto::ready_for_query(awake_->io_.out, 'T');
    plan.kind = Plan::Kind::Answered;
    plan.consumed = items[0].size;
    co_return plan;
  }
  bool any = false, all_replica = true;
  size_t group_start = 0;  // the first message after the last Sync: an extended-protocol group
  std::vector<Rewrite> rewrites;
  for (size_t k = 0; k < items.size(); ++k) {
    const char type = items[k].frame.type;
    const RoutedText rt = routed_text(data, items[k]);
    if (rt.kind == RoutedText::Kind::Sync) group_start = k + 1;
    if (rt.kind == RoutedText::Kind::Opaque) {  // it could be anything, writes included
      any = true;
      all_replica = false;
      plan.writes = true;
    }
    if (rt.kind != RoutedText::Kind::Text) continue;
    Decision d = router.decide(rt.text, cs);
    if (d.action != Decision::Action::Forward) {
      const size_t start = type == proto::frontend::kQuery ? k : group_start;
      if (start > 0) {  // the messages before it first
        plan.ready = items[start].offset;
        plan.items = start;
        break;
      }
      if (awake_->tx_.unsynced() > 0) {
        // An extended-protocol group began in an earlier batch that the server already has: what
        // follows cannot be answered apart from it, so it runs where the group runs.
        any = true;
        all_replica = false;
        if (d.rewritten && rt.text_at > 0) rewrites.push_back({k, items[k].offset + rt.text_at, std::move(*d.rewritten)});
        continue;
      }
      if (!settled()) {
        // Our reply must come after the server's replies still on their way to the client.
        co_await wait_settled();
        plan.kind = Plan::Kind::Requeue;
        co_return plan;
      }
      co_return answer_planned(data, items, type, d);
    }
    any = true;
    switch (d.target) {
      case routing::Target::Replica:
        break;
      case routing::Target::Primary:
        all_replica = false;
        if (!d.classification || d.classification->kind != sql::StatementKind::Read) plan.writes = true;
        break;
      case routing::Target::Current:
        all_replica = false;
        plan.writes = true;  // inside a transaction: whatever it does, its commit is what counts
        break;
    }
    if (d.rewritten && rt.text_at > 0) rewrites.push_back({k, items[k].offset + rt.text_at, std::move(*d.rewritten)});
  }
  if (server_ && server_->is_replica() && any && !all_replica && !cs.in_transaction && awake_->tx_.unsynced() == 0) {
    // A statement for the primary behind a read still running on a replica: let the read finish
    // and the replica go, then route afresh.
    co_await wait_settled();
    plan.kind = Plan::Kind::Requeue;
    co_return plan;
  }
  // Also with a server attached: a read that reuses a replica still attached from a completed
  // batch is armed for the retry like one on a fresh server (client_loop).
  plan.replica = any && all_replica;
  // Only now that the batch goes: a Requeue above must decide on the client's own text again.
  for (auto& r : rewrites)
    if (r.item < plan.items) std::memcpy(data.data() + r.at, r.text.data(), r.text.size());
  co_return plan;
}

size_t ClientSession::answer_group(std::span<const uint8_t> data, std::span<const BatchItem> items, const Decision& d,
                                   bool single_statement) {
  const bool show = d.command_tag == "SHOW";
  if (char(data[items[0].offset]) == 'Q') {
    if (d.new_route) split_memory_.route = *d.new_route;
    if (show) {
      proto::row_description(awake_->io_.out, {"pgopt.route"});
      proto::data_row(awake_->io_.out, {std::string(d.show_value)});
    }
    proto::command_complete(awake_->io_.out, d.command_tag);
    proto::ready_for_query(awake_->io_.out, client_tx_status());
    return items[0].size;
  }
  if (!single_statement)
    return fail_group(data, items,
                      routing::RouteError{"0A000", "pgopt.route must be set or shown in a message group of its own", {},
                                          "Send it as a separate query (Sync before and after)."});
  if (d.new_route) split_memory_.route = *d.new_route;
  size_t used = 0;
  for (const auto& it : items) {
    const char t = char(data[it.offset]);
    used = it.offset + it.size;
    switch (t) {
      case 'P': proto::parse_complete(awake_->io_.out); break;
      case 'B': proto::bind_complete(awake_->io_.out); break;
      case 'D':
        if (it.size > 5 && data[it.offset + 5] == 'S') proto::Writer(awake_->io_.out).begin('t').i16(0).end();
        if (show)
          proto::row_description(awake_->io_.out, {"pgopt.route"});
        else
          proto::no_data(awake_->io_.out);
        break;
      case 'E':
        if (show) proto::data_row(awake_->io_.out, {std::string(d.show_value)});
        proto::command_complete(awake_->io_.out, d.command_tag);
        break;
      case 'C': proto::close_complete(awake_->io_.out); break;
      case 'S': proto::ready_for_query(awake_->io_.out, client_tx_status()); return used;
      default: break;
    }
  }
  return used;
}

size_t ClientSession::fail_group(std::span<const uint8_t> data, std::span<const BatchItem> items,
                                 const routing::RouteError& e) {
  log::debug("{} refused: {} ({})", tag(), e.message, e.sqlstate);
  meter_.error(metrics::ErrorSource::Pooler, e.sqlstate);
  proto::error_response(awake_->io_.out, "ERROR", e.sqlstate, e.message, e.detail, e.hint);
  if (char(data[items[0].offset]) == 'Q') {
    proto::ready_for_query(awake_->io_.out, client_tx_status());
    return items[0].size;
  }
  // As after any error in an extended-protocol group: everything up to its Sync is skipped.
  for (const auto& it : items) {
    if (char(data[it.offset]) == 'S') {
      proto::ready_for_query(awake_->io_.out, client_tx_status());
      return it.offset + it.size;
    }
  }
  split_memory_.skip_to_sync = true;
  return items.back().offset + items.back().size;
}

awaitable<void> ClientSession::retry_elsewhere(ServerPtr failed) {
  // Until the batch is on its new server, more client messages must wait (client_loop checks).
  // awake_ stays: a session is parked only from client_loop, which waits meanwhile.
  awake_->split_.retry().set_moving(true);
  co_await retry_elsewhere_now(std::move(failed));
  if (awake_) awake_->split_.retry().set_moving(false);
  notify_settled();
}

awaitable<void> ClientSession::retry_elsewhere_now(ServerPtr failed) {
  BatchRetry& retry = awake_->split_.retry();
  std::string batch = retry.take_for_retry();
  if (prepared_) prepared_->abandon_all(failed->statements);
  if (capture_) capture_->abandon();  // the batch is fed to the capture again by send_batch
  awake_->tx_.forget_requests();
  const bool replica = failed->is_replica();
  log::info("{} {} broke before answering: running the {} again on another connection", tag(), failed->describe(),
            replica ? "read" : "BEGIN");
  const auto ar = co_await attach(replica);
  if (ar == AttachResult::Closed) co_return;
  if (ar == AttachResult::NoReplica) {
    disconnect(fmt::format("server connection {} lost and no replica left", failed->describe()), "08006",
               "server connection lost and no replica is available (replica_fallback = error)");
    co_return;
  }
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(batch.data()), batch.size());
  std::vector<BatchItem> items;
  for (size_t pos = 0; pos < bytes.size();) {
    auto r = proto::decode_frame(bytes.subspan(pos), UINT32_MAX);
    if (r.status != proto::DecodeStatus::Frame) break;  // our own copy of validated messages
    items.push_back({pos, r.frame.size, r.frame});
    pos += r.frame.size;
  }
  awake_->split_.retry().rearm();  // on its new server, as after a fresh send (arm_retry)
  co_await send_batch(bytes, items, true);
}

}  // namespace pgopt::pooler
