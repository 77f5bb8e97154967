// Client login: startup packet, TLS (or SSL/GSS refusal), protocol negotiation, authentication, welcome.
#include <fmt/format.h>

#include <mutex>
#include <random>

#include "pooler/auth/md5.hpp"
#include "pooler/auth/scram.hpp"
#include "pooler/client_session.hpp"
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

awaitable<void> ClientSession::handle_cancel_request(std::span<const uint8_t> payload, bool forwarded) {
  auto key = proto::parse_cancel_request(payload);
  if (!key) co_return;
  auto cfg = rt_.config();
  const PeerConfig* owner = cfg->find_peer(fleet::peer_of(key->secret));
  if (fleet::route_cancel(key->secret, cfg->pooler.peer_id, forwarded, owner != nullptr) == fleet::CancelRoute::Forward) {
    const PeerConfig peer = *owner;  // the config snapshot stays alive meanwhile, but say what is used
    std::string err = co_await fleet::forward_cancel(peer, *key);
    if (err.empty())
      log::debug("cancel request from {} forwarded to peer {} at {}:{}", peer_, peer.id, peer.host, peer.port);
    else
      log::warn("cancel request from {} for peer {} not forwarded: {}", peer_, peer.id, err);
    co_return;
  }
  auto target = rt_.client_table.find(*key);
  if (!target) {
    log::debug("cancel request from {} matches no client{}", peer_, forwarded ? " (forwarded by a peer)" : "");
    co_return;
  }
  asio::post(target->executor(), [target] { target->forward_cancel(); });
}

// SSLRequest or GSSENCRequest (its packet consumed): TLS started when client_tls_mode allows it,
// else "N" and the client goes on in plaintext. False once the client was disconnected.
awaitable<bool> ClientSession::answer_encryption_request(uint32_t code, const tls::Contexts* contexts) {
  if (!awake_->in_.empty()) {
    // Bytes after the request before our answer would be read as plaintext after a TLS
    // negotiation in a real server (CVE-2021-23214): refuse them.
    disconnect("data after SSL/GSS request", "08P01", "unexpected data after SSL/GSS encryption request");
    co_return false;
  }
  if (awake_->sock_.encrypted()) {
    disconnect("SSL/GSS request inside TLS", "08P01", "unexpected SSL/GSS encryption request on an encrypted connection");
    co_return false;
  }
  SSL_CTX* ctx = code == proto::kSslRequestCode && contexts ? contexts->for_clients() : nullptr;
  if (!ctx) co_return co_await send("N");  // client_tls_mode = disable, or GSSAPI encryption (not supported)
  if (!co_await send("S")) co_return false;
  if (auto err = co_await awake_->sock_.accept(ctx); !err.empty()) {
    // No FATAL: the client expects TLS records now, and there is no TLS session to carry one.
    log::warn("{} TLS handshake failed: {}", tag(), err);
    disconnect("TLS handshake failed");
    co_return false;
  }
  log::debug("{} TLS: {}", tag(), awake_->sock_.describe());
  co_return true;
}

// The startup packet's parameters: user, database, startup settings (and -c options); `_pq_.`
// protocol options we do not speak go to `unsupported`. False once the client was disconnected
// (a replication connection, an option other than -c).
bool ClientSession::take_startup_params(const proto::StartupParams& params, std::vector<std::string>& unsupported) {
  for (auto& [k, v] : params.params) {
    if (k == "user") {
      awake_->user_ = v;
    } else if (k == "database") {
      awake_->database_ = v;
    } else if (k == "replication") {
      if (v != "false" && v != "0" && v != "off" && v != "no") {
        disconnect("replication connection refused", "08P01", "pgopt does not pool replication connections");
        return false;
      }
    } else if (k == "options") {
      std::string bad;
      if (!parse_options(v, awake_->startup_gucs_, bad)) {
        disconnect("unsupported startup option", "08P01",
                   fmt::format("unsupported startup option \"{}\": only -c name=value is accepted", bad));
        return false;
      }
    } else if (k.rfind("_pq_.", 0) == 0) {
      unsupported.push_back(k);
    } else {
      awake_->startup_gucs_.emplace_back(k, v);
    }
  }
  return true;
}

awaitable<bool> ClientSession::startup() {
  auto cfg = rt_.config();
  auto contexts = tls::current();  // one snapshot: a reload does not change this login half-way
  for (;;) {
    auto r = proto::decode_startup(awake_->in_.readable(), kMaxStartupPacket);
    if (r.status == proto::DecodeStatus::NeedMore) {
      auto [ec, n] = co_await awake_->sock_.async_read_some(awake_->in_.prepare(512), nothrow);
      if (ec) {
        disconnect("client closed the connection before login");
        co_return false;
      }
      awake_->in_.commit(n);
      continue;
    }
    if (r.status == proto::DecodeStatus::Malformed) {
      // A length no startup packet has (an HTTP probe; node-postgres's connect() + end() writes
      // Terminate first): closed without a reply, as PostgreSQL does (COMMERROR).
      log::info("{} invalid length of startup packet: {}; closed without a reply", tag(), r.error);
      disconnect("invalid length of startup packet: " + r.error);
      co_return false;
    }
    const auto code = r.frame.code;
    if (code == proto::kSslRequestCode || code == proto::kGssEncRequestCode) {
      awake_->in_.consume(r.frame.size);
      if (!co_await answer_encryption_request(code, contexts.get())) co_return false;
      continue;
    }
    if (code == proto::kCancelRequestCode || code == proto::kForwardedCancelCode) {
      co_await handle_cancel_request(r.frame.payload, code == proto::kForwardedCancelCode);
      disconnect("cancel request handled");
      co_return false;
    }
    if ((code >> 16) != 3) {
      disconnect(fmt::format("unsupported protocol {}.{}", code >> 16, code & 0xffff), "0A000",
                 fmt::format("unsupported frontend protocol {}.{}: server supports 3.0 to 3.0", code >> 16,
                             code & 0xffff));
      co_return false;
    }
    std::string err;
    auto params = proto::parse_startup_params(code, r.frame.payload, err);
    awake_->in_.consume(r.frame.size);
    if (!params) {
      disconnect("invalid startup packet: " + err, "08P01", "invalid startup packet: " + err);
      co_return false;
    }
    std::vector<std::string> unsupported;
    if (!take_startup_params(*params, unsupported)) co_return false;
    if (user().empty()) {
      disconnect("no user in startup packet", "28000", "no PostgreSQL user name specified in startup packet");
      co_return false;
    }
    // As a hostssl-only pg_hba.conf: checked once the client has said who it is, so the log names
    // it. Cancel requests (above) stay allowed in plaintext: libpq sends them that way.
    if (contexts && contexts->client_mode() == ClientTlsMode::Require && !awake_->sock_.encrypted()) {
      disconnect("client did not use TLS (client_tls_mode = require)", "28000",
                 "SSL required: this pooler accepts only encrypted connections (use sslmode=require or stronger)");
      co_return false;
    }
    if (database().empty()) awake_->database_ = awake_->user_;
    // A newer minor version or _pq_ options: answer with what we speak (3.0), as PostgreSQL does.
    if ((code & 0xffff) != 0 || !unsupported.empty()) {
      awake_->out_.clear();
      proto::negotiate_protocol_version(awake_->out_, 0, unsupported);
      if (!co_await send_out()) co_return false;
    }
    config_ = cfg;
    if (database() == kAdminDatabase) admin_ = true;  // the admin console: no pool, no server (admin/)
    co_return true;
  }
}

bool ClientSession::resolve_database() {
  // After authentication, as PostgreSQL does: before it, the answer would tell anyone which
  // database names exist.
  db_ = config_->find_database(database());
  if (!db_) {
    disconnect(fmt::format("unknown database \"{}\"", database()), "3D000",
               fmt::format("database \"{}\" does not exist", database()));
    return false;
  }
  mode_ = config_->pool_mode(*db_);
  return true;
}

awaitable<std::optional<std::string>> ClientSession::read_password_message() {
  auto [ec, f] = co_await read_message(awake_->sock_, awake_->in_, kMaxStartupPacket);
  if (ec) {
    disconnect("client closed the connection during authentication");
    co_return std::nullopt;
  }
  if (f.type != 'p') {
    disconnect("expected a password message", "08P01",
               fmt::format("expected password response, got message type '{}'", f.type));
    co_return std::nullopt;
  }
  std::string body(reinterpret_cast<const char*>(f.body.data()), f.body.size());
  awake_->in_.consume(f.size);
  co_return body;
}

awaitable<bool> ClientSession::authenticate() {
  const auto& pooler = config_->pooler;
  auto fail = [&](const std::string& why) {
    log::warn("{} authentication failed: {}", tag(), why);
    disconnect("authentication failed", "28P01", fmt::format("password authentication failed for user \"{}\"", user()));
  };
  awake_->out_.clear();
  if (pooler.auth_type == AuthType::Trust) {
    proto::auth_ok(awake_->out_);
    co_return co_await send_out();
  }
  auto users = rt_.users();
  const auth::UserEntry* entry = users ? users->find(user()) : nullptr;
  if (!entry || entry->kind == auth::SecretKind::None) {
    // Still run the exchange so a client cannot tell unknown users from wrong passwords by timing
    // or message: the same 28P01 comes back either way. An empty secret (accepted for trust, as
    // PgBouncer does) is no password at all.
    uint8_t salt[4] = {1, 2, 3, 4};
    proto::auth_md5(awake_->out_, salt);
    if (!co_await send_out()) co_return false;
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
    proto::auth_md5(awake_->out_, salt);
    if (!co_await send_out()) co_return false;
    auto body = co_await read_password_message();
    if (!body) co_return false;
    std::string_view answer(body->data(), body->size());
    if (!answer.empty() && answer.back() == '\0') answer.remove_suffix(1);
    if (answer != auth::md5_salted_response(user(), entry->secret, salt)) {
      fail("wrong password (md5)");
      co_return false;
    }
  } else {
    auth::ScramSecret secret = entry->kind == auth::SecretKind::Scram ? *entry->scram
                                                                       : scram_secret_for_plaintext(user(), entry->secret);
    auth::ScramServer scram(secret);
    proto::auth_sasl(awake_->out_, {"SCRAM-SHA-256"});
    if (!co_await send_out()) co_return false;
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
    awake_->out_.clear();
    proto::auth_sasl_continue(awake_->out_, *server_first);
    if (!co_await send_out()) co_return false;
    auto final_msg = co_await read_password_message();
    if (!final_msg) co_return false;
    auto server_final = scram.client_final(*final_msg, err);
    if (!server_final) {
      fail("SCRAM: " + err);
      co_return false;
    }
    awake_->out_.clear();
    proto::auth_sasl_final(awake_->out_, *server_final);
    if (entry->kind == auth::SecretKind::Scram) awake_->scram_client_key_ = scram.client_key();
  }
  proto::auth_ok(awake_->out_);
  co_return co_await send_out();
}

awaitable<bool> ClientSession::welcome() {
  pool_ = &rt_.pools.get(database(), user());
  if (awake_->scram_client_key_) pool_->set_scram_client_key(*awake_->scram_client_key_);
  auto defaults = pool_->defaults();
  if (!defaults) {
    // The first client of a pool: log in to a server once to learn what it reports.
    if (co_await attach() != AttachResult::Ok) co_return false;
    ServerPtr s = std::move(server_);
    co_await release(std::move(s));
    defaults = pool_->defaults();
    if (!defaults) {
      disconnect("no server parameters", "08006", "could not obtain server parameters");
      co_return false;
    }
  }
  for (auto& [k, v] : *defaults) want_.set_reported(k, v);
  for (auto& [k, v] : awake_->startup_gucs_) {
    if (const GucEntry* e = want_.find(k); e && !e->replayed)
      want_.set_reported(e->name, v);
    else
      want_.set_replayed(k, set_config_sql(k, v));
  }
  want_.intern(rt_.gucs);
  const bool replays = !awake_->startup_gucs_.empty() &&
                       std::any_of(want_.entries().begin(), want_.entries().end(), [](const auto& kv) { return kv.second.replayed; });
  decltype(awake_->startup_gucs_)().swap(awake_->startup_gucs_);  // in want_ now; an idle client keeps no copy
  if (replays) {
    // Settings the server does not report (options=-c ..., or any other startup parameter) are
    // tried on a server now, so a name or value PostgreSQL refuses fails the login with its own
    // error, as connecting directly would, instead of the first query.
    if (co_await attach() != AttachResult::Ok) co_return false;
    ServerPtr s = std::move(server_);
    co_await release(std::move(s));
  }
  awake_->out_.clear();
  for (auto& [k, e] : want_.entries())
    if (!e.replayed) proto::parameter_status(awake_->out_, e.name, e.value);
  proto::backend_key_data(awake_->out_, cancel_key_);
  proto::ready_for_query(awake_->out_, 'I');
  if (!co_await send_out()) co_return false;
  log::info("{} login ok ({} pooling, backend pid {})", tag(), to_string(mode_), cancel_key_.pid);
  co_return true;
}

}  // namespace pgopt::pooler
