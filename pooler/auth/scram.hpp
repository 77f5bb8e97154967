// SCRAM-SHA-256 (RFC 5802/7677) for both ends: the pooler verifies clients and logs in to servers.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

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

// nullopt unless the text is exactly PostgreSQL's format with iterations >= 1, a non-empty salt and
// 32-byte keys, all in strict (padded, canonical) base64.
std::optional<ScramSecret> parse_scram_verifier(std::string_view verifier);
std::string format_scram_verifier(const ScramSecret& s);
// Passwords are used as given (no SASLprep); ASCII passwords, the common case, are unaffected.
// iterations < 1 is a programming error (std::invalid_argument).
ScramSecret make_scram_secret(std::string_view password, std::string_view salt, int iterations);

std::string base64_encode(std::string_view raw);
std::optional<std::string> base64_decode(std::string_view text);
std::string random_bytes(size_t n);  // OpenSSL RAND_bytes

// Why ScramServer refused an exchange, so the caller can pick the SQLSTATE: a protocol violation
// (08P01) is not a wrong password (28P01).
enum class ScramFailure { None, Malformed, WrongProof };

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
  // None until a call fails; then why (every later call fails with the same kind).
  ScramFailure failure() const { return failure_; }

 private:
  ScramSecret secret_;
  std::string server_nonce_, client_first_bare_, server_first_, combined_nonce_;
  Key client_key_{};
  int step_ = 0;
  std::string gs2_header_;  // "n,," or "y,,": what "c=" must encode
  ScramFailure failure_ = ScramFailure::None;
};

// Client side of one exchange (the pooler logging in to PostgreSQL).
class ScramClient {
 public:
  static ScramClient with_password(std::string password, std::string client_nonce = {});
  // Passthrough: keys from a verified client's proof and the stored verifier.
  static ScramClient with_keys(const Key& client_key, const Key& server_key,
                               std::string client_nonce = {});
  // The RFC 5802 "n=" user name (escaped as saslname). PostgreSQL ignores it and libpq sends it
  // empty, which is the default; set it only to talk to other SCRAM servers or to test vectors.
  void set_username(std::string username) { username_ = std::move(username); }
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
  std::string username_;
  int step_ = 0;  // 0: nothing sent, 1: client-first sent, 2: client-final sent, 3: done, -1: failed
};

}  // namespace pgopt::pooler::auth
