// TLS contexts built from the [pooler] TLS keys: one for clients, one for servers; swapped on reload.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pooler/config/config.hpp"

typedef struct ssl_ctx_st SSL_CTX;  // NOLINT: OpenSSL's own spelling, so this header needs no OpenSSL

namespace pgopt::pooler::tls {

// The certificates and modes one connection uses, read from files once per (re)load and immutable
// afterwards: a connection keeps the object it started with, so a reload never changes a handshake
// half-way, and new connections see new certificates.
class Contexts {
 public:
  ~Contexts();
  Contexts(const Contexts&) = delete;
  Contexts& operator=(const Contexts&) = delete;

  ClientTlsMode client_mode() const { return client_mode_; }
  ServerTlsMode server_mode() const { return server_mode_; }
  // Null when the mode is disable.
  SSL_CTX* for_clients() const { return for_clients_; }
  SSL_CTX* for_servers() const { return for_servers_; }
  // Whether these were built from the same TLS keys (file contents aside).
  bool built_from(const PoolerSettings& s) const;

  struct Built {
    std::shared_ptr<const Contexts> contexts;  // null on error
    std::vector<std::string> errors;           // "client_tls_cert_file /path: reason"
  };
  // Reads the key, certificate and CA files the settings name. Minimum protocol TLS 1.2.
  static Built build(const PoolerSettings& s);

 private:
  Contexts() = default;
  ClientTlsMode client_mode_ = ClientTlsMode::Disable;
  ServerTlsMode server_mode_ = ServerTlsMode::Disable;
  SSL_CTX* for_clients_ = nullptr;
  SSL_CTX* for_servers_ = nullptr;
  std::string key_file_, cert_file_, client_ca_file_, server_ca_file_;
};

// The contexts new connections use. The daemon installs them at startup and on every reload; a
// connection takes one snapshot and keeps it. Process-wide because server connections are opened
// from places (replica poller, warm-up, sessions) that share no object but the process.
std::shared_ptr<const Contexts> current();
void install(std::shared_ptr<const Contexts> c);

}  // namespace pgopt::pooler::tls
