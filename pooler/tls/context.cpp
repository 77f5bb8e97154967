// TLS contexts built from the [pooler] TLS keys, and the process-wide current set.
#include "pooler/tls/context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <atomic>
#include <cstring>

#include <fmt/format.h>

namespace pgopt::pooler::tls {

namespace {

// The first queued error is the cause ("No such file or directory", "no start line", "key values
// mismatch"); later ones only say which call gave up.
std::string openssl_error() {
  unsigned long first = ERR_get_error();
  ERR_clear_error();
  if (first == 0) return "unknown OpenSSL error";
#ifdef ERR_SYSTEM_ERROR
  if (ERR_SYSTEM_ERROR(first)) return std::strerror(ERR_GET_REASON(first));  // "No such file or directory"
#endif
  if (const char* reason = ERR_reason_error_string(first)) return reason;
  char buf[256];
  ERR_error_string_n(first, buf, sizeof buf);
  return buf;
}

// What both sides share: TLS 1.2 at least, no session resumption (as PostgreSQL: every connection
// is long-lived, and a ticket key would be one more secret to rotate), and an EOF without
// close_notify read as an EOF (the wire protocol frames every message, so truncation shows).
void common_options(SSL_CTX* ctx) {
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  // Partial writes let a large relay write complete record by record; moving buffers lets a
  // retried write come from a copy; read-ahead takes everything the socket has in one read.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_read_ahead(ctx, 1);
}

std::atomic<std::shared_ptr<const Contexts>> g_current;

}  // namespace

Contexts::~Contexts() {
  if (for_clients_) SSL_CTX_free(for_clients_);
  if (for_servers_) SSL_CTX_free(for_servers_);
}

bool Contexts::built_from(const PoolerSettings& s) const {
  return s.client_tls_mode == client_mode_ && s.server_tls_mode == server_mode_ && s.client_tls_key_file == key_file_ &&
         s.client_tls_cert_file == cert_file_ && s.client_tls_ca_file == client_ca_file_ &&
         s.server_tls_ca_file == server_ca_file_;
}

Contexts::Built Contexts::build(const PoolerSettings& s) {
  Built out;
  std::shared_ptr<Contexts> c(new Contexts());
  c->client_mode_ = s.client_tls_mode;
  c->server_mode_ = s.server_tls_mode;
  c->key_file_ = s.client_tls_key_file;
  c->cert_file_ = s.client_tls_cert_file;
  c->client_ca_file_ = s.client_tls_ca_file;
  c->server_ca_file_ = s.server_tls_ca_file;
  ERR_clear_error();
  auto fail = [&](std::string_view key, const std::string& file) {
    out.errors.push_back(fmt::format("pooler.{} \"{}\": {}", key, file, openssl_error()));
  };

  if (s.client_tls_mode != ClientTlsMode::Disable) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    c->for_clients_ = ctx;
    if (!ctx) {
      out.errors.push_back("cannot create a TLS context: " + openssl_error());
      return out;
    }
    common_options(ctx);
    if (SSL_CTX_use_certificate_chain_file(ctx, s.client_tls_cert_file.c_str()) != 1) {
      fail("client_tls_cert_file", s.client_tls_cert_file);
    } else if (SSL_CTX_use_PrivateKey_file(ctx, s.client_tls_key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      fail("client_tls_key_file", s.client_tls_key_file);
    } else if (SSL_CTX_check_private_key(ctx) != 1) {
      out.errors.push_back(fmt::format("pooler.client_tls_key_file \"{}\" does not match client_tls_cert_file \"{}\": {}",
                                       s.client_tls_key_file, s.client_tls_cert_file, openssl_error()));
    }
    if (!s.client_tls_ca_file.empty()) {
      // Certificates are checked when a client sends one, not demanded (PgBouncer's client_tls_ca_file).
      STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(s.client_tls_ca_file.c_str());
      if (SSL_CTX_load_verify_locations(ctx, s.client_tls_ca_file.c_str(), nullptr) != 1 || !names) {
        if (names) sk_X509_NAME_pop_free(names, X509_NAME_free);
        fail("client_tls_ca_file", s.client_tls_ca_file);
      } else {
        SSL_CTX_set_client_CA_list(ctx, names);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
      }
    }
  }

  if (s.server_tls_mode != ServerTlsMode::Disable) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    c->for_servers_ = ctx;
    if (!ctx) {
      out.errors.push_back("cannot create a TLS context: " + openssl_error());
      return out;
    }
    common_options(ctx);
    const bool verify = s.server_tls_mode == ServerTlsMode::VerifyCa || s.server_tls_mode == ServerTlsMode::VerifyFull;
    if (verify) {
      if (SSL_CTX_load_verify_locations(ctx, s.server_tls_ca_file.c_str(), nullptr) != 1)
        fail("server_tls_ca_file", s.server_tls_ca_file);
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    } else {
      // prefer and require encrypt without authenticating the server, as libpq's sslmode.
      SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    }
  }
  if (out.errors.empty()) out.contexts = std::move(c);
  return out;
}

std::shared_ptr<const Contexts> current() { return g_current.load(); }

void install(std::shared_ptr<const Contexts> c) { g_current.store(std::move(c)); }

}  // namespace pgopt::pooler::tls
