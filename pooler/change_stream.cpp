// The change stream of one database: connect (replication=database), check the publication,
// create the slot (TEMPORARY unless slot_name is set), START_REPLICATION, then decode CopyData with
// cache::PgoutputDecoder and invalidate each committed transaction's tables before acknowledging
// its end position. Any failure marks the database's gate down (no hits, no fills) and reconnects
// with backoff; coming back up opens the gate only to fills that begin after it (store.hpp).
#include "pooler/change_stream.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "pooler/cache/pgoutput_decoder.hpp"
#include "pooler/failover.hpp"
#include "pooler/log.hpp"
#include "pooler/runtime.hpp"
#include "pooler/split.hpp"

namespace pgopt::pooler {

namespace proto = pgopt::protocol;

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string quote_literal(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + '\'';
}

namespace {

using SysClock = std::chrono::system_clock;
constexpr std::chrono::milliseconds kFirstBackoff{100}, kMaxBackoff{5000};
// Silence longer than this means a dead connection: the server sends a keepalive at least every
// wal_sender_timeout / 2 (30 s by default).
constexpr std::chrono::seconds kSilence{120};
constexpr auto kStatusEvery = std::chrono::seconds(1);

cache::PgTimestamp pg_now() {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(SysClock::now().time_since_epoch()).count();
  return us - cache::kPgEpochUnixSeconds * 1'000'000;
}

std::string server_error_text(const proto::Frame& f, std::nullptr_t) {
  auto fields = proto::parse_error_fields(f.body);
  if (!fields) return "malformed ErrorResponse";
  return std::string(proto::error_field(*fields, 'M'));
}

// What the decoder reports, applied to the store: invalidation first, then the position may be
// acknowledged.
struct Applier : cache::ChangeListener {
  cache::ResultCache& rc;
  const std::string& database;
  uint64_t ack = 0;            // what may be reported flushed
  bool reply_wanted = false;   // a keepalive asked for a status update
  explicit Applier(cache::ResultCache& r, const std::string& db) : rc(r), database(db) {}

  void on_commit(const cache::CommittedTransaction& tx) override {
    const bool any = tx.all || !tx.tables.empty();
    if (any) rc.store.invalidate(tx.tables, tx.all);
    const double lag = double(pg_now() - tx.commit_time) / 1e6;
    rc.streams.committed(database, lag, any);
    ack = std::max(ack, tx.end_lsn);
  }
  void on_keepalive(uint64_t, cache::PgTimestamp, bool reply) override { reply_wanted = reply_wanted || reply; }
};

// Closes a connection silent for kSilence, which ends the stream's read. Its handler owns it, so
// it may outlive the stream's frame.
struct Watchdog : std::enable_shared_from_this<Watchdog> {
  Watchdog(asio::any_io_executor exec, ServerPtr c) : timer(exec), conn(std::move(c)) {}
  asio::steady_timer timer;
  ServerPtr conn;
  Clock::time_point last = Clock::now();
  bool stopped = false;
  void arm() {
    timer.expires_after(std::chrono::seconds(10));
    timer.async_wait([self = shared_from_this()](error_code e) {
      if (e || self->stopped) return;
      if (Clock::now() - self->last > kSilence) return self->conn->close();
      self->arm();
    });
  }
  void stop() {
    stopped = true;
    timer.cancel();
  }
};

struct ChangeStream {
  Runtime& rt;
  std::string database;
  std::shared_ptr<cache::ResultCache> rc;
  ServerPtr conn;
  std::string slot;
  uint64_t attempt = 0;

  void down(std::string why) {
    rc->store.stream_down(database);
    rc->streams.set_state(database, cache::StreamState::Down, std::move(why));
  }

  // One statement on the replication connection; its error text, or empty.
  awaitable<std::string> command(const std::string& sql, std::string* sqlstate, InternalResult* out) {
    auto r = co_await run_internal(*conn, sql);
    if (sqlstate) *sqlstate = r.sqlstate;
    if (r.broken) co_return r.error.empty() ? "connection lost" : r.error;
    if (!r.ok) co_return r.error.empty() ? "unexpected reply" : r.error;
    if (out) *out = std::move(r);
    co_return std::string();
  }

  // Connected and logged in, publication checked, slot made: an error text, or empty.
  awaitable<std::string> open(const Config& cfg, const DatabaseConfig& db, const ServerCredentials& creds) {
    auto target = primary_target(rt, db);
    if (!target) co_return "no primary known yet";
    auto lr = co_await connect_server(*target, creds, cfg.pooler.server_connect_timeout,
                                      rt.next_server_id.fetch_add(1, std::memory_order_relaxed), "database");
    if (!lr.server) co_return lr.error;
    conn = std::move(lr.server);
    const std::string& pub = cfg.cache.publication;
    InternalResult found;
    std::string err = co_await command(
        "SELECT count(*) FROM pg_catalog.pg_publication WHERE pubname = " + quote_literal(pub), nullptr, &found);
    if (!err.empty()) co_return err;
    if (found.row.empty() || !found.row[0] || *found.row[0] == "0")
      co_return fmt::format("publication \"{}\" does not exist in database {} (create it: CREATE PUBLICATION {} FOR "
                            "ALL TABLES; or FOR TABLE the cached tables)",
                            pub, target->dbname, quote_identifier(pub));
    const bool temporary = cfg.cache.slot_name.empty();
    slot = temporary ? fmt::format("pgopt_cache_{}_{}", ::getpid(), ++attempt) : cfg.cache.slot_name;
    std::string state;
    // NOEXPORT_SNAPSHOT: the cache needs no snapshot, only the changes from here on.
    err = co_await command(fmt::format("CREATE_REPLICATION_SLOT {} {}LOGICAL pgoutput NOEXPORT_SNAPSHOT",
                                       quote_identifier(slot), temporary ? "TEMPORARY " : ""),
                           &state, nullptr);
    if (!err.empty() && !(state == "42710" && !temporary)) co_return "cannot create slot " + slot + ": " + err;
    co_return std::string();
  }

  // START_REPLICATION up to CopyBothResponse: an error text, or empty.
  awaitable<std::string> start(const Config& cfg) {
    std::string msg;
    const std::string pubs = quote_identifier(cfg.cache.publication);
    proto::query(msg, fmt::format("START_REPLICATION SLOT {} LOGICAL 0/0 (proto_version '1', publication_names {})",
                                  quote_identifier(slot), quote_literal(pubs)));
    if (co_await send_all(conn->sock, msg)) co_return "connection lost";
    for (;;) {
      auto [ec, f] = co_await read_message(conn->sock, conn->buf, 1u << 30);
      if (ec) co_return "connection lost: " + ec.message();
      const char type = f.type;
      std::string err = type == 'E' ? server_error_text(f, nullptr) : std::string();
      conn->buf.consume(f.size);
      if (type == 'W') co_return std::string();
      if (type == 'E') co_return err;
    }
  }

  awaitable<bool> send_status(uint64_t lsn) {
    std::string msg;
    const std::string payload = cache::pgoutput_build::standby_status(lsn, pg_now(), false);
    msg.push_back('d');
    const uint32_t len = uint32_t(payload.size() + 4);
    for (int shift = 24; shift >= 0; shift -= 8) msg.push_back(char((len >> shift) & 0xff));
    msg += payload;
    co_return !(co_await send_all(conn->sock, msg));
  }

  // Streams until the connection fails; returns why.
  awaitable<std::string> stream() {
    Applier applier(*rc, database);
    cache::PgoutputDecoder decoder(applier);
    uint64_t acked = 0;
    auto last_status = Clock::now();
    auto watchdog = std::make_shared<Watchdog>(co_await asio::this_coro::executor, conn);
    watchdog->arm();
    std::string why;
    while (!rt.shutting_down) {
      auto [ec, f] = co_await read_message(conn->sock, conn->buf, 1u << 30);
      if (ec) {
        why = "connection lost: " + ec.message();
        break;
      }
      watchdog->last = Clock::now();
      const char type = f.type;
      if (type == 'E') why = server_error_text(f, nullptr);
      if (type == 'd' && decoder.on_copy_data(f.body) != cache::PgoutputDecoder::Status::Ok)
        why = "cannot decode the stream: " + decoder.error();
      conn->buf.consume(f.size);
      if (type == 'E' || !why.empty()) break;
      if (type == 'c') {
        why = "the server ended the stream";
        break;
      }
      // Keepalives' positions may be acknowledged too when no transaction is open: nothing before
      // them is left to apply.
      uint64_t ack = applier.ack;
      if (!decoder.in_transaction()) ack = std::max(ack, decoder.wal_end());
      if (applier.reply_wanted || (ack > acked && Clock::now() - last_status >= kStatusEvery)) {
        if (!co_await send_status(ack)) {
          why = "connection lost sending a status update";
          break;
        }
        acked = ack;
        applier.reply_wanted = false;
        last_status = Clock::now();
        rc->streams.flushed(database, ack);
      }
    }
    watchdog->stop();
    co_return why.empty() ? std::string("shutting down") : why;
  }

  void close() {
    if (conn) conn->close();
    conn.reset();
  }

  awaitable<void> run() {
    asio::steady_timer pause(co_await asio::this_coro::executor);
    auto backoff = kFirstBackoff;
    std::string last_error;
    down("starting");
    while (!rt.shutting_down) {
      auto cfg = rt.config();
      const DatabaseConfig* db = cfg->find_database(database);
      if (!db) break;
      std::string err;
      if (auto creds = poll_credentials(rt, database)) {
        err = co_await open(*cfg, *db, *creds);
        if (err.empty()) err = co_await start(*cfg);
        if (err.empty()) {
          rc->store.stream_up(database);
          rc->streams.set_state(database, cache::StreamState::Up, "streaming, slot " + slot);
          log::info("database {}: result cache change stream up (slot {}, publication {})", database, slot,
                    cfg->cache.publication);
          last_error.clear();
          backoff = kFirstBackoff;
          err = co_await stream();
          down(err);
          log::warn("database {}: result cache change stream down: {}; its cached entries are not served until "
                    "it is back",
                    database, err);
          last_error = err;  // logged just now
        }
      } else {
        err = "waiting for a client to log in (the stream logs in as a pooled user)";
      }
      close();
      if (rt.shutting_down) break;
      if (err != last_error) {
        // Once per distinct failure at error level; repeats at debug.
        down(err);
        if (err.rfind("waiting", 0) == 0) log::debug("database {}: result cache change stream {}", database, err);
        else log::error("database {}: result cache change stream cannot start: {}", database, err);
        last_error = err;
      } else {
        log::debug("database {}: result cache change stream still failing: {}", database, err);
      }
      // Waiting for a login is a cheap check, not a failure: it does not back off.
      const bool waiting = err.rfind("waiting", 0) == 0;
      pause.expires_after(waiting ? kFirstBackoff * 2 : backoff);
      co_await pause.async_wait(nothrow);
      if (!waiting) backoff = std::min(kMaxBackoff, backoff * 2);
    }
    close();
    down("stopped");
  }
};

}  // namespace

awaitable<void> run_change_stream(Runtime& rt, std::string database, std::shared_ptr<cache::ResultCache> rc) {
  ChangeStream s{rt, std::move(database), std::move(rc), nullptr, {}, 0};
  co_await s.run();
}

}  // namespace pgopt::pooler
