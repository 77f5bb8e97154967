// LoginHandshake (login_handshake.hpp): startup packet, TLS (or SSL/GSS refusal), protocol negotiation,
// authentication, the database and pool, welcome.
#include <fmt/format.h>

#include <mutex>
#include <random>

#include "pooler/auth/md5.hpp"
#include "pooler/auth/scram.hpp"
#include "pooler/client_session.hpp"
#include "pooler/login_handshake.hpp"
#include "pooler/fleet/cancel_forward.hpp"
#include "pooler/fleet/peer_key.hpp"
#include "pooler/log.hpp"
#include "pooler/tls/context.hpp"

namespace pgopt::pooler {

namespace proto = pgopt::protocol;

namespace {

// Startup-phase messages are tiny; anything bigger is not a PostgreSQL client.
constexpr uint32_t kMaxStartupPacket = 10000;

// PBKDF2 with 4096 rounds costs milliseconds; a plaintext auth-file password is turned into a
// verifier once per (user, password), not at every login.
auth::ScramSecret scram_secret_for_plaintext(const std::string& user, const std::string& password) {
  static std::mutex mu;
  static std::unordered_map<std::string, std::pair<std::string, auth::ScramSecret>> cache;
  std::lock_guard lk(mu);
  auto it = cache.find(user);
  if (it != cache.end() && it->second.first == password) return it->second.second;
  auto secret = auth::make_scram_secret(password, auth::random_bytes(16), 4096);
  cache[user] = {password, secret};
  return secret;
}

// "-c name=value" and "--name=value" items of the `options` startup parameter.
bool parse_options(std::string_view opts, std::vector<std::pair<std::string, std::string>>& out, std::string& bad) {
  std::vector<std::string> words;
  std::string cur;
  for (size_t i = 0; i < opts.size(); ++i) {
    char c = opts[i];
    if (c == '\\' && i + 1 < opts.size()) {
      cur += opts[++i];
    } else if (c == ' ' || c == '\t') {
      if (!cur.empty()) words.push_back(std::move(cur)), cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) words.push_back(cur);
  for (size_t i = 0; i < words.size(); ++i) {
    std::string item;
    if (words[i] == "-c" && i + 1 < words.size()) {
      item = words[++i];
    } else if (words[i].rfind("-c", 0) == 0 && words[i].size() > 2) {
      item = words[i].substr(2);
    } else if (words[i].rfind("--", 0) == 0) {
      item = words[i].substr(2);
    } else {
      bad = words[i];
      return false;
    }
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      bad = item;
      return false;
    }
    std::string name = item.substr(0, eq);
    for (auto& ch : name)
      if (ch == '-') ch = '_';
    out.emplace_back(name, item.substr(eq + 1));
  }
  return true;
}

}  // namespace

awaitable<void> LoginHandshake::handle_cancel_request(std::span<const uint8_t> payload, bool forwarded) {
  auto key = proto::parse_cancel_request(payload);
  if (!key) co_return;
  auto cfg = c_.rt_.config();
  const PeerConfig* owner = cfg->find_peer(fleet::peer_of(key->secret));
  if (fleet::route_cancel(key->secret, cfg->pooler.peer_id, forwarded, owner != nullptr) == fleet::CancelRoute::Forward) {
    const PeerConfig peer = *owner;  // the config snapshot stays alive meanwhile, but say what is used
    std::string err = co_await fleet::forward_cancel(peer, *key);
    if (err.empty())
      log::debug("cancel request from {} forwarded to peer {} at {}:{}", c_.ident_.peer, peer.id, peer.host, peer.port);
    else
      log::warn("cancel request from {} for peer {} not forwarded: {}", c_.ident_.peer, peer.id, err);
    co_return;
  }
  auto target = c_.rt_.client_table.find(*key);
  if (!target) {
    log::debug("cancel request from {} matches no client{}", c_.ident_.peer, forwarded ? " (forwarded by a peer)" : "");
    co_return;
  }
  asio::post(target->executor(), [target] { target->forward_cancel(); });
}

// SSLRequest or GSSENCRequest (its packet consumed): TLS started when client_tls_mode allows it,
// else "N" and the client goes on in plaintext. False once the client was disconnected.
awaitable<bool> LoginHandshake::answer_encryption_request(uint32_t code, const tls::Contexts* contexts) {
  if (!c_.awake_->io_.in.empty()) {
    // Bytes after the request before our answer would be read as plaintext after a TLS
    // negotiation in a real server (CVE-2021-23214): refuse them.
    c_.disconnect("data after SSL/GSS request", "08P01", "unexpected data after SSL/GSS encryption request");
    co_return false;
  }
  if (c_.awake_->io_.sock.encrypted()) {
    c_.disconnect("SSL/GSS request inside TLS", "08P01", "unexpected SSL/GSS encryption request on an encrypted connection");
    co_return false;
  }
  SSL_CTX* ctx = code == proto::kSslRequestCode && contexts ? contexts->for_clients() : nullptr;
  if (!ctx) co_return co_await c_.send("N");  // client_tls_mode = disable, or GSSAPI encryption (not supported)
  if (!co_await c_.send("S")) co_return false;
  if (auto err = co_await c_.awake_->io_.sock.accept(ctx); !err.empty()) {
    // No FATAL: the client expects TLS records now, and there is no TLS session to carry one.
    log::warn("{} TLS handshake failed: {}", c_.tag(), err);
    c_.disconnect("TLS handshake failed");
    co_return false;
  }
  log::debug("{} TLS: {}", c_.tag(), c_.awake_->io_.sock.describe());
  co_return true;
}

// The startup packet's parameters: user, database, startup settings (and -c options); `_pq_.`
// protocol options we do not speak go to `unsupported`. False once the client was disconnected
// (a replication connection, an option other than -c).
bool LoginHandshake::take_startup_params(const proto::StartupParams& params, std::vector<std::string>& unsupported) {
  for (auto& [k, v] : params.params) {
    if (k == "user") {
      user_ = v;
    } else if (k == "database") {
      database_ = v;
    } else if (k == "replication") {
      if (v != "false" && v != "0" && v != "off" && v != "no") {
        c_.disconnect("replication connection refused", "08P01", "pgopt does not pool replication connections");
        return false;
      }
    } else if (k == "options") {
      std::string bad;
      if (!parse_options(v, startup_gucs_, bad)) {
        c_.disconnect("unsupported startup option", "08P01",
                   fmt::format("unsupported startup option \"{}\": only -c name=value is accepted", bad));
        return false;
      }
    } else if (k.rfind("_pq_.", 0) == 0) {
      unsupported.push_back(k);
    } else {
      startup_gucs_.emplace_back(k, v);
    }
  }
  return true;
}

awaitable<bool> LoginHandshake::startup() {
  auto cfg = c_.rt_.config();
  auto contexts = tls::current();  // one snapshot: a reload does not change this login half-way
  for (;;) {
    auto r = proto::decode_startup(c_.awake_->io_.in.readable(), kMaxStartupPacket);
    if (r.status == proto::DecodeStatus::NeedMore) {
      auto [ec, n] = co_await c_.awake_->io_.sock.async_read_some(c_.awake_->io_.in.prepare(512), nothrow);
      if (ec) {
        c_.disconnect("client closed the connection before login");
        co_return false;
      }
      c_.awake_->io_.in.commit(n);
      continue;
    }
    if (r.status == proto::DecodeStatus::Malformed) {
      // A length no startup packet has (an HTTP probe; node-postgres's connect() + end() writes
      // Terminate first): closed without a reply, as PostgreSQL does (COMMERROR).
      log::info("{} invalid length of startup packet: {}; closed without a reply", c_.tag(), r.error);
      c_.disconnect("invalid length of startup packet: " + r.error);
      co_return false;
    }
    const auto code = r.frame.code;
    if (code == proto::kSslRequestCode || code == proto::kGssEncRequestCode) {
      c_.awake_->io_.in.consume(r.frame.size);
      if (!co_await answer_encryption_request(code, contexts.get())) co_return false;
      continue;
    }
    if (code == proto::kCancelRequestCode || code == proto::kForwardedCancelCode) {
      co_await handle_cancel_request(r.frame.payload, code == proto::kForwardedCancelCode);
      c_.disconnect("cancel request handled");
      co_return false;
    }
    if ((code >> 16) != 3) {
      c_.disconnect(fmt::format("unsupported protocol {}.{}", code >> 16, code & 0xffff), "0A000",
                 fmt::format("unsupported frontend protocol {}.{}: server supports 3.0 to 3.0", code >> 16,
                             code & 0xffff));
      co_return false;
    }
    std::string err;
    auto params = proto::parse_startup_params(code, r.frame.payload, err);
    c_.awake_->io_.in.consume(r.frame.size);
    if (!params) {
      c_.disconnect("invalid startup packet: " + err, "08P01", "invalid startup packet: " + err);
      co_return false;
    }
    std::vector<std::string> unsupported;
    if (!take_startup_params(*params, unsupported)) co_return false;
    if (user_.empty()) {
      c_.disconnect("no user in startup packet", "28000", "no PostgreSQL user name specified in startup packet");
      co_return false;
    }
    // As a hostssl-only pg_hba.conf: checked once the client has said who it is, so the log names
    // it. Cancel requests (above) stay allowed in plaintext: libpq sends them that way.
    if (contexts && contexts->client_mode() == ClientTlsMode::Require && !c_.awake_->io_.sock.encrypted()) {
      c_.disconnect("client did not use TLS (client_tls_mode = require)", "28000",
                 "SSL required: this pooler accepts only encrypted connections (use sslmode=require or stronger)");
      co_return false;
    }
    if (database_.empty()) database_ = user_;
    // A newer minor version or _pq_ options: answer with what we speak (3.0), as PostgreSQL does.
    if ((code & 0xffff) != 0 || !unsupported.empty()) {
      c_.awake_->io_.out.clear();
      proto::negotiate_protocol_version(c_.awake_->io_.out, 0, unsupported);
      if (!co_await c_.send_out()) co_return false;
    }
    c_.binding_.config = cfg;
    // The admin console: no pool, no server (admin/). Set now: SHOW CLIENTS shows it during auth.
    if (database_ == kAdminDatabase) c_.kind_ = ClientSession::Kind::Admin;
    co_return true;
  }
}

awaitable<LoginHandshake::Outcome> LoginHandshake::run() {
  if (!co_await startup()) co_return Outcome::Over;
  auto cfg = c_.rt_.config();
  if (c_.rt_.clients.load(std::memory_order_relaxed) > cfg->pooler.max_client_conn) {
    c_.disconnect("max_client_conn reached", "53300", "no more connections allowed (max_client_conn)");
    co_return Outcome::Over;
  }
  if (c_.rt_.shutting_down) {
    c_.disconnect("shutting down", "57P03", "pgopt is shutting down");
    co_return Outcome::Over;
  }
  if (!co_await authenticate()) co_return Outcome::Over;
  if (c_.is_admin()) co_return Outcome::Admin;
  if (!resolve_database()) co_return Outcome::Over;
  // Counted from here on: the database is one of the configuration's (so its errors at the first
  // server login are counted too, while names a client made up never become metric labels).
  c_.meter_.bind(&c_.rt_.stats.counters(c_.worker_.index, database_));
  if (!co_await welcome()) co_return Outcome::Over;
  co_return Outcome::Done;
}

bool LoginHandshake::resolve_database() {
  // After authentication, as PostgreSQL does: before it, the answer would tell anyone which
  // database names exist.
  c_.binding_.db = c_.binding_.config->find_database(database_);
  if (!c_.binding_.db) {
    c_.disconnect(fmt::format("unknown database \"{}\"", database_), "3D000",
               fmt::format("database \"{}\" does not exist", database_));
    return false;
  }
  c_.mode_ = c_.binding_.config->pool_mode(*c_.binding_.db);
  return true;
}

awaitable<std::optional<std::string>> LoginHandshake::read_password_message() {
  auto [ec, f] = co_await read_message(c_.awake_->io_.sock, c_.awake_->io_.in, kMaxStartupPacket);
  if (ec) {
    c_.disconnect("client closed the connection during authentication");
    co_return std::nullopt;
  }
  if (f.type != 'p') {
    c_.disconnect("expected a password message", "08P01",
               fmt::format("expected password response, got message type '{}'", f.type));
    co_return std::nullopt;
  }
  std::string body(reinterpret_cast<const char*>(f.body.data()), f.body.size());
  c_.awake_->io_.in.consume(f.size);
  co_return body;
}

awaitable<bool> LoginHandshake::authenticate() {
  const auto& pooler = c_.binding_.config->pooler;
  auto fail = [&](const std::string& why) {
    log::warn("{} authentication failed: {}", c_.tag(), why);
    c_.disconnect("authentication failed", "28P01", fmt::format("password authentication failed for user \"{}\"", user_));
  };
  c_.awake_->io_.out.clear();
  if (pooler.auth_type == AuthType::Trust) {
    proto::auth_ok(c_.awake_->io_.out);
    co_return co_await c_.send_out();
  }
  auto users = c_.rt_.users();
  const auth::UserEntry* entry = users ? users->find(user_) : nullptr;
  if (!entry || entry->kind == auth::SecretKind::None) {
    // Still run the exchange so a client cannot tell unknown users from wrong passwords by timing
    // or message: the same 28P01 comes back either way. An empty secret (accepted for trust, as
    // PgBouncer does) is no password at all.
    uint8_t salt[4] = {1, 2, 3, 4};
    proto::auth_md5(c_.awake_->io_.out, salt);
    if (!co_await c_.send_out()) co_return false;
    if (!co_await read_password_message()) co_return false;
    fail(entry ? "the auth file has an empty secret for this user, which only auth_type = \"trust\" accepts"
               : "user is not in the auth file");
    co_return false;
  }
  bool use_scram = pooler.auth_type == AuthType::ScramSha256 || entry->kind == auth::SecretKind::Scram;
  if (use_scram && entry->kind == auth::SecretKind::Md5) {
    fail("the auth file stores an md5 hash for this user; scram-sha-256 needs a plaintext password or a SCRAM verifier");
    co_return false;
  }
  if (!use_scram) {
    std::string salt_bytes = auth::random_bytes(4);
    uint8_t salt[4];
    std::memcpy(salt, salt_bytes.data(), 4);
    proto::auth_md5(c_.awake_->io_.out, salt);
    if (!co_await c_.send_out()) co_return false;
    auto body = co_await read_password_message();
    if (!body) co_return false;
    std::string_view answer(body->data(), body->size());
    if (!answer.empty() && answer.back() == '\0') answer.remove_suffix(1);
    if (answer != auth::md5_salted_response(user_, entry->secret, salt)) {
      fail("wrong password (md5)");
      co_return false;
    }
  } else {
    auth::ScramSecret secret = entry->kind == auth::SecretKind::Scram ? *entry->scram
                                                                       : scram_secret_for_plaintext(user_, entry->secret);
    auth::ScramServer scram(secret);
    proto::auth_sasl(c_.awake_->io_.out, {"SCRAM-SHA-256"});
    if (!co_await c_.send_out()) co_return false;
    auto first = co_await read_password_message();
    if (!first) co_return false;
    proto::Reader rd({reinterpret_cast<const uint8_t*>(first->data()), first->size()});
    auto mech = rd.cstr();
    int32_t len = rd.i32();
    auto data = rd.rest();
    if (rd.failed() || mech != "SCRAM-SHA-256" || len < 0 || size_t(len) != data.size()) {
      fail("malformed SASLInitialResponse or unsupported mechanism");
      co_return false;
    }
    std::string err;
    auto server_first = scram.client_first({reinterpret_cast<const char*>(data.data()), data.size()}, err);
    if (!server_first) {
      fail("SCRAM: " + err);
      co_return false;
    }
    c_.awake_->io_.out.clear();
    proto::auth_sasl_continue(c_.awake_->io_.out, *server_first);
    if (!co_await c_.send_out()) co_return false;
    auto final_msg = co_await read_password_message();
    if (!final_msg) co_return false;
    auto server_final = scram.client_final(*final_msg, err);
    if (!server_final) {
      fail("SCRAM: " + err);
      co_return false;
    }
    c_.awake_->io_.out.clear();
    proto::auth_sasl_final(c_.awake_->io_.out, *server_final);
    if (entry->kind == auth::SecretKind::Scram) scram_client_key_ = scram.client_key();
  }
  proto::auth_ok(c_.awake_->io_.out);
  co_return co_await c_.send_out();
}

awaitable<bool> LoginHandshake::welcome() {
  c_.binding_.pool = &c_.rt_.pools.get(database_, user_);
  if (scram_client_key_) c_.binding_.pool->set_scram_client_key(*scram_client_key_);
  auto defaults = c_.binding_.pool->defaults();
  if (!defaults) {
    // The first client of a pool: log in to a server once to learn what it reports.
    if (co_await c_.attach() != ClientSession::AttachResult::Ok) co_return false;
    ServerPtr s = std::move(c_.server_);
    co_await c_.release(std::move(s));
    defaults = c_.binding_.pool->defaults();
    if (!defaults) {
      c_.disconnect("no server parameters", "08006", "could not obtain server parameters");
      co_return false;
    }
  }
  for (auto& [k, v] : *defaults) c_.want_.set_reported(k, v);
  for (auto& [k, v] : startup_gucs_) {
    if (const GucEntry* e = c_.want_.find(k); e && !e->replayed)
      c_.want_.set_reported(e->name, v);
    else
      c_.want_.set_replayed(k, set_config_sql(k, v));
  }
  c_.want_.intern(c_.rt_.gucs);
  const bool replays = !startup_gucs_.empty() && std::any_of(c_.want_.entries().begin(), c_.want_.entries().end(),
                                                              [](const auto& kv) { return kv.second.replayed; });
  decltype(startup_gucs_)().swap(startup_gucs_);  // in want_ now: nothing of it is kept past login
  if (replays) {
    // Settings the server does not report (options=-c ..., or any other startup parameter) are
    // tried on a server now, so a name or value PostgreSQL refuses fails the login with its own
    // error, as connecting directly would, instead of the first query.
    if (co_await c_.attach() != ClientSession::AttachResult::Ok) co_return false;
    ServerPtr s = std::move(c_.server_);
    co_await c_.release(std::move(s));
  }
  c_.awake_->io_.out.clear();
  for (auto& [k, e] : c_.want_.entries())
    if (!e.replayed) proto::parameter_status(c_.awake_->io_.out, e.name, e.value);
  proto::backend_key_data(c_.awake_->io_.out, c_.ident_.cancel_key);
  proto::ready_for_query(c_.awake_->io_.out, 'I');
  if (!co_await c_.send_out()) co_return false;
  log::info("{} login ok ({} pooling, backend pid {})", c_.tag(), to_string(c_.mode_), c_.ident_.cancel_key.pid);
  co_return true;
}

}  // namespace pgopt::pooler
