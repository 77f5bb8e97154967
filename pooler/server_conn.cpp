// One connection from the pooler to a PostgreSQL server: login as a client, and its pooled state.
#include "pooler/server_conn.hpp"

#include <netinet/tcp.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include "pooler/auth/md5.hpp"
#include "pooler/log.hpp"
#include "pooler/tls/context.hpp"

namespace pgopt::pooler {

using namespace asio::experimental::awaitable_operators;
namespace proto = pgopt::protocol;

// Server messages during login are small; a bigger one means we are not talking to PostgreSQL.
constexpr uint32_t kLoginMaxMessage = 1 << 20;

ServerConn::ServerConn(tcp::socket s, ServerTarget t, uint64_t i) : sock(std::move(s)), target(std::move(t)), id(i) {}

ServerConn::~ServerConn() { unlease(); }

void ServerConn::lease() {
  if (replica_set && !leased) {
    replica_set->acquired(replica_index);
    leased = true;
  }
}

void ServerConn::unlease() {
  if (leased) {
    replica_set->released(replica_index);
    leased = false;
  }
}

std::string ServerConn::describe() const { return fmt::format("S-{} {}:{}", id, target.host, target.port); }

bool ServerConn::idle_healthy() const { return sock.is_open() && !sock.has_unread(); }

void ServerConn::rebind(const asio::any_io_executor& exec, int worker_index) {
  if (worker == worker_index) return;
  sock.rebind(exec);
  worker = worker_index;
}

void ServerConn::close() {
  error_code ec;
  if (sock.is_open()) {
    std::string bye;
    proto::terminate(bye);
    sock.send_now(bye);
    sock.close(ec);
  }
}

awaitable<std::pair<error_code, proto::Frame>> read_message(tls::Stream& sock, Buffer& buf, uint32_t max_len) {
  for (;;) {
    auto r = proto::decode_frame(buf.readable(), max_len);
    if (r.status == proto::DecodeStatus::Frame) co_return std::pair{error_code{}, r.frame};
    if (r.status == proto::DecodeStatus::Malformed)
      co_return std::pair{make_error_code(boost::system::errc::protocol_error), proto::Frame{}};
    // Login messages are small: a client's buffer starts at 512 bytes, not 4 kB (10,000 idle clients).
    auto [ec, n] = co_await sock.async_read_some(buf.prepare(512), nothrow);
    if (ec) co_return std::pair{ec, proto::Frame{}};
    buf.commit(n);
  }
}

awaitable<error_code> send_all(tls::Stream& sock, const std::string& data) {
  auto [ec, n] = co_await asio::async_write(sock, asio::buffer(data), nothrow);
  (void)n;
  co_return ec;
}

namespace {

std::string server_error_text(const proto::Frame& f, std::string* sqlstate) {
  auto fields = proto::parse_error_fields(f.body);
  if (!fields) return "malformed ErrorResponse";
  if (sqlstate) *sqlstate = std::string(proto::error_field(*fields, 'C'));
  return std::string(proto::error_field(*fields, 'M'));
}

// SSLRequest before the StartupMessage, as server_tls_mode says. Returns the error, "" to go on
// (encrypted, or in plaintext when the mode is prefer and the server has no TLS).
awaitable<std::string> start_tls(ServerConn& s, const tls::Contexts& tls) {
  const ServerTlsMode mode = tls.server_mode();
  const std::string where = fmt::format("server {}:{}", s.target.host, s.target.port);
  std::string request;
  proto::ssl_request(request);
  if (auto ec = co_await send_all(s.sock, request))
    co_return fmt::format("could not send SSLRequest to {}: {}", where, ec.message());
  // Exactly one byte: anything after an 'S' belongs to the TLS handshake (CVE-2021-23222).
  char answer = 0;
  auto [ec, n] = co_await asio::async_read(s.sock.socket(), asio::buffer(&answer, 1), nothrow);
  (void)n;
  if (ec) co_return fmt::format("lost connection to {} after SSLRequest: {}", where, ec.message());
  if (answer == 'N') {
    if (mode == ServerTlsMode::Prefer) co_return std::string();
    co_return fmt::format("{} does not accept TLS connections (it answered SSLRequest with 'N') and "
                          "server_tls_mode is \"{}\"",
                          where, to_string(mode));
  }
  if (answer != 'S')
    co_return fmt::format("{} answered SSLRequest with byte {}: not a PostgreSQL server that supports TLS", where,
                          int(static_cast<unsigned char>(answer)));
  auto err = co_await s.sock.connect(tls.for_servers(), s.target.host, mode == ServerTlsMode::VerifyFull);
  if (!err.empty()) co_return fmt::format("TLS with {} failed (server_tls_mode \"{}\"): {}", where, to_string(mode), err);
  log::debug("{}: {}", s.describe(), s.sock.describe());
  co_return std::string();
}

// An Authentication request of the server's: the answer to send into `msg` (none for
// AuthenticationOk or SASLFinal), or why pgopt cannot log in with `creds`.
std::string answer_authentication(proto::Reader& rd, const ServerCredentials& creds, const std::string& where,
                                  std::optional<auth::ScramClient>& scram, std::string& msg) {
  int32_t code = rd.i32();
  if (code == 0) return {};  // AuthenticationOk
  if (code == 3) {           // cleartext
    if (!creds.password) {
      return fmt::format("{} asks for a cleartext password for user \"{}\" but the auth file has none", where,
                         creds.user);
    }
    proto::password_message(msg, *creds.password);
  } else if (code == 5) {  // md5
    auto salt = rd.bytes(4);
    const std::string* secret = creds.password ? &*creds.password : creds.md5_hash ? &*creds.md5_hash : nullptr;
    if (rd.failed() || !secret) {
      return fmt::format(
          "{} asks for md5 authentication for user \"{}\" but the auth file has "
          "neither a password nor an md5 hash",
          where, creds.user);
    }
    proto::password_message(msg, auth::md5_salted_response(creds.user, *secret, salt.data()));
  } else if (code == 10) {  // SASL: list of mechanisms
    bool has_scram = false;
    for (auto m = rd.cstr(); !rd.failed() && !m.empty(); m = rd.cstr()) has_scram |= (m == "SCRAM-SHA-256");
    if (!has_scram) {
      return fmt::format("{} offers no SASL mechanism pgopt supports", where);
    }
    if (creds.password) {
      scram = auth::ScramClient::with_password(*creds.password);
    } else if (creds.scram_client_key && creds.scram_server_key) {
      scram = auth::ScramClient::with_keys(*creds.scram_client_key, *creds.scram_server_key);
    } else {
      return fmt::format(
          "{} requires SCRAM for user \"{}\": the auth file has no plaintext password, and no client "
          "has logged in with SCRAM yet to allow passthrough",
          where, creds.user);
    }
    proto::sasl_initial_response(msg, "SCRAM-SHA-256", scram->client_first());
  } else if (code == 11 || code == 12) {  // SASLContinue / SASLFinal
    if (!scram) {
      return fmt::format("{} sent a SASL message out of order", where);
    }
    auto data = rd.rest();
    std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
    std::string err;
    if (code == 11) {
      auto final_msg = scram->server_first(text, err);
      if (!final_msg) {
        return fmt::format("SCRAM with {} failed: {}", where, err);
      }
      proto::sasl_response(msg, *final_msg);
    } else if (!scram->server_final(text, err)) {
      return fmt::format("SCRAM with {} failed: {}", where, err);
    }
  } else {
    return fmt::format("{} asks for an authentication method pgopt does not support (code {})", where, code);
  }
  return {};
}

// The login conversation after the StartupMessage is sent; fills `out` or sets out.error.
awaitable<void> login(ServerConn& s, const ServerCredentials& creds, LoginResult& out) {
  std::optional<auth::ScramClient> scram;
  const std::string where = fmt::format("server {}:{}", s.target.host, s.target.port);
  for (;;) {
    auto [ec, f] = co_await read_message(s.sock, s.buf, kLoginMaxMessage);
    if (ec) {
      out.error = fmt::format("lost connection to {} during login: {}", where, ec.message());
      co_return;
    }
    std::string body(reinterpret_cast<const char*>(f.body.data()), f.body.size());
    char type = f.type;
    s.buf.consume(f.size);  // `body` is a copy: replies below may reuse the buffer
    std::span<const uint8_t> bspan(reinterpret_cast<const uint8_t*>(body.data()), body.size());
    proto::Reader rd(bspan);
    std::string msg;
    switch (type) {
      case 'R':
        out.error = answer_authentication(rd, creds, where, scram, msg);
        if (!out.error.empty()) co_return;
        break;
      case 'S': {
        if (auto p = proto::parse_parameter_status(bspan)) {
          out.parameters.emplace_back(std::string(p->name), std::string(p->value));
          s.state.set_reported(p->name, p->value);
        }
        break;
      }
      case 'K':
        s.backend_key.pid = rd.i32();
        s.backend_key.secret = rd.i32();
        break;
      case 'Z':
        co_return;  // logged in
      case 'E':
        out.error = fmt::format("{} refused login: {}", where,
                                server_error_text(proto::Frame{type, bspan, 0}, &out.sqlstate));
        co_return;
      case 'N':
      case 'v':  // NegotiateProtocolVersion: we only ask for 3.0, so nothing to adjust
        break;
      default:
        out.error = fmt::format("{} sent unexpected message '{}' during login", where, type);
        co_return;
    }
    if (!msg.empty()) {
      if (auto wec = co_await send_all(s.sock, msg)) {
        out.error = fmt::format("lost connection to {} during login: {}", where, wec.message());
        co_return;
      }
    }
  }
}

}  // namespace

awaitable<LoginResult> connect_server(const ServerTarget& target, const ServerCredentials& creds,
                                      std::chrono::milliseconds timeout, uint64_t id, std::string_view replication) {
  auto exec = co_await asio::this_coro::executor;
  LoginResult out;
  asio::steady_timer deadline(exec, timeout);
  auto attempt = [&]() -> awaitable<void> {
    tcp::resolver resolver(exec);
    auto [rec, endpoints] = co_await resolver.async_resolve(target.host, std::to_string(target.port), nothrow);
    if (rec) {
      out.error = fmt::format("could not resolve server {}: {}", target.host, rec.message());
      co_return;
    }
    tcp::socket sock(exec);
    auto [cec, ep] = co_await asio::async_connect(sock, endpoints, nothrow);
    (void)ep;
    if (cec) {
      out.error = fmt::format("could not connect to server {}:{}: {}", target.host, target.port, cec.message());
      co_return;
    }
    sock.set_option(tcp::no_delay(true));
    auto s = std::make_shared<ServerConn>(std::move(sock), target, id);
    // One snapshot per connection: a reload during the handshake does not change it half-way.
    if (auto contexts = tls::current(); contexts && contexts->server_mode() != ServerTlsMode::Disable) {
      out.error = co_await start_tls(*s, *contexts);
      if (!out.error.empty()) co_return;
    }
    std::string startup;
    std::vector<std::pair<std::string, std::string>> params{{"user", creds.user}, {"database", target.dbname}};
    if (!replication.empty()) {
      params.emplace_back("replication", std::string(replication));
      // How an operator tells the pooler's walsender in pg_stat_replication.
      params.emplace_back("application_name", "pgopt cache stream");
    }
    proto::startup_message(startup, params);
    if (auto wec = co_await send_all(s->sock, startup)) {
      out.error = fmt::format("could not send startup to server {}:{}: {}", target.host, target.port, wec.message());
      co_return;
    }
    co_await login(*s, creds, out);
    if (out.error.empty()) out.server = std::move(s);
  };
  auto which = co_await (attempt() || deadline.async_wait(nothrow));
  if (which.index() == 1) {
    out.server.reset();
    out.error = fmt::format("timed out after {} ms connecting to server {}:{} (server_connect_timeout)",
                            timeout.count(), target.host, target.port);
  }
  co_return out;
}

awaitable<InternalResult> run_internal_within(const ServerPtr& server, const std::string& sql,
                                              std::chrono::milliseconds timeout, bool& timed_out) {
  asio::steady_timer guard(co_await asio::this_coro::executor);
  guard.expires_after(timeout);
  // The handler holds its own references: it may run after this frame is gone.
  auto fired = std::make_shared<bool>(false);
  guard.async_wait([c = server, fired](error_code e) {
    if (e) return;
    *fired = true;
    c->close();
  });
  auto r = co_await run_internal(*server, sql);
  guard.cancel();
  timed_out = *fired;
  co_return r;
}

awaitable<InternalResult> run_internal(ServerConn& s, const std::string& sql) {
  InternalResult r;
  std::string msg;
  proto::query(msg, sql);
  if (co_await send_all(s.sock, msg)) {
    r.broken = true;
    r.error = "connection lost";
    co_return r;
  }
  for (;;) {
    auto [ec, f] = co_await read_message(s.sock, s.buf, 1u << 30);
    if (ec) {
      r.broken = true;
      r.error = "connection lost: " + ec.message();
      co_return r;
    }
    // The pooler's own statements change the schema too (a gone client's transaction rolled back
    // here undoes its CREATEs): the shared statements' epoch must hear of it (server_statements.hpp).
    s.statements.on_server_message(f.type, f.body);
    switch (f.type) {
      case 'E':
        r.error = server_error_text(f, &r.sqlstate);
        break;
      case 'S':
        if (auto p = proto::parse_parameter_status(f.body)) {
          r.parameters.emplace_back(std::string(p->name), std::string(p->value));
          s.state.set_reported(p->name, p->value);
        }
        break;
      case 'D':
        if (r.row.empty()) {
          if (auto cols = proto::parse_data_row(f.body)) {
            for (const auto& c : *cols)
              r.row.push_back(c ? std::optional<std::string>(std::string(reinterpret_cast<const char*>(c->data()), c->size()))
                                : std::nullopt);
          }
        }
        break;
      case 'Z':
        r.status = f.body.empty() ? 'I' : char(f.body[0]);
        r.ok = r.error.empty();
        s.buf.consume(f.size);
        co_return r;
      default:
        break;
    }
    s.buf.consume(f.size);
  }
}

}  // namespace pgopt::pooler
