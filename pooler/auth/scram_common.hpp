// Internal: what both SCRAM ends share: message tokenizing (RFC 5802 section 7) and the key
// schedule.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pooler/auth/scram.hpp"

namespace pgopt::pooler::auth::scram {

// No SCRAM attribute value may contain ',' (saslnames escape it as "=2C"), so splitting on ','
// yields the attributes exactly; empty tokens are kept so a stray comma is seen as an error.
std::vector<std::string_view> split(std::string_view msg);

struct Attr {
  char name;
  std::string_view value;
};
// attr-val = ALPHA "=" value
std::optional<Attr> parse_attr(std::string_view token);
// True when every token is a well-formed attr-val whose name is not `forbidden` (RFC 5802 lets
// either side append extensions, which are ignored).
bool valid_extensions(std::span<const std::string_view> tokens, char forbidden);

// printable = %x21-2B / %x2D-7E, at least one character.
bool valid_nonce(std::string_view nonce);
// 18 random bytes in base64 (24 characters), the size libpq and PostgreSQL use.
std::string new_nonce();
// saslname escaping: ',' -> "=2C", '=' -> "=3D".
std::string escape_saslname(std::string_view name);
// Strict decimal in [1, INT_MAX].
std::optional<int> parse_iterations(std::string_view text);

struct ClientServerKeys {
  Key client_key{};
  Key server_key{};
};
ClientServerKeys keys_from_password(std::string_view password, std::string_view salt,
                                    int iterations);

// ClientProof = ClientKey XOR HMAC(H(ClientKey), AuthMessage)
Key client_proof(const Key& client_key, std::string_view auth_message);
// ServerSignature = HMAC(ServerKey, AuthMessage)
Key server_signature(const Key& server_key, std::string_view auth_message);

}  // namespace pgopt::pooler::auth::scram
