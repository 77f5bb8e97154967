// SCRAM-SHA-256 (RFC 5802/7677) for both ends: the pooler verifies clients and logs in to servers.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pgopt::pooler::auth {

using Key = std::array<uint8_t, 32>;

// What PostgreSQL stores in pg_authid.rolpassword: SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>
struct ScramSecret {
  int iterations = 4096;
  std::string salt;  // raw bytes
  Key stored_key{};
  Key server_key{};
  bool operator==(const ScramSecret&) const = default;
};

std::optional<ScramSecret> parse_scram_verifier(std::string_view verifier);
std::string format_scram_verifier(const ScramSecret& s);
// Passwords are used as given (no SASLprep); ASCII passwords, the common case, are unaffected.
ScramSecret make_scram_secret(std::string_view password, std::string_view salt, int iterations);

std::string base64_encode(std::string_view raw);
std::optional<std::string> base64_decode(std::string_view text);
std::string random_bytes(size_t n);  // OpenSSL RAND_bytes

// Server side of one exchange (the pooler authenticating a client). Channel binding is not offered,
// so a client-first-message with "p=" is refused; "y"/"n" are accepted.
class ScramServer {
 public:
  explicit ScramServer(ScramSecret secret, std::string server_nonce = {});  // empty: random
  // client-first-message -> server-first-message; nullopt with `error` when malformed.
  std::optional<std::string> client_first(std::string_view msg, std::string& error);
  // client-final-message -> server-final-message ("v=..."); nullopt when malformed or wrong proof.
  std::optional<std::string> client_final(std::string_view msg, std::string& error);
  // After a successful client_final: ClientKey recovered from the proof, usable to log in to a
  // server whose verifier equals ours without knowing the password (PgBouncer's SCRAM passthrough).
  const Key& client_key() const { return client_key_; }

 private:
  ScramSecret secret_;
  std::string server_nonce_, client_first_bare_, server_first_, combined_nonce_;
  Key client_key_{};
  int step_ = 0;
};

// Client side of one exchange (the pooler logging in to PostgreSQL).
class ScramClient {
 public:
  static ScramClient with_password(std::string password, std::string client_nonce = {});
  // Passthrough: keys from a verified client's proof and the stored verifier.
  static ScramClient with_keys(const Key& client_key, const Key& server_key,
                               std::string client_nonce = {});
  std::string client_first();  // "n,,n=,r=<nonce>"
  // server-first-message -> client-final-message; nullopt with `error` when malformed/nonce wrong.
  std::optional<std::string> server_first(std::string_view msg, std::string& error);
  // Checks the server's signature; false with `error` otherwise.
  bool server_final(std::string_view msg, std::string& error);

 private:
  ScramClient() = default;
  std::optional<std::string> password_;
  Key client_key_{}, server_key_{};
  std::string client_nonce_, client_first_bare_, auth_message_;
};

}  // namespace pgopt::pooler::auth
