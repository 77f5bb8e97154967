// SCRAM message tokenizing, nonce rules and the RFC 5802 key schedule shared by client and server.
#include "pooler/auth/scram_common.hpp"

#include <cctype>
#include <charconv>
#include <climits>

#include "pooler/auth/crypto.hpp"

namespace pgopt::pooler::auth::scram {

std::vector<std::string_view> split(std::string_view msg) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t comma = msg.find(',', start);
    if (comma == std::string_view::npos) {
      out.push_back(msg.substr(start));
      return out;
    }
    out.push_back(msg.substr(start, comma - start));
    start = comma + 1;
  }
}

std::optional<Attr> parse_attr(std::string_view token) {
  if (token.size() < 2 || token[1] != '=') return std::nullopt;
  unsigned char c = static_cast<unsigned char>(token[0]);
  if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return std::nullopt;
  return Attr{token[0], token.substr(2)};
}

bool valid_extensions(std::span<const std::string_view> tokens, char forbidden) {
  for (std::string_view t : tokens) {
    auto a = parse_attr(t);
    if (!a || a->name == forbidden) return false;
  }
  return true;
}

bool valid_nonce(std::string_view nonce) {
  if (nonce.empty()) return false;
  for (char ch : nonce) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x21 || c > 0x7E || c == ',') return false;
  }
  return true;
}

std::string new_nonce() { return base64_encode(random_bytes(18)); }

std::string escape_saslname(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    if (c == ',')
      out += "=2C";
    else if (c == '=')
      out += "=3D";
    else
      out += c;
  }
  return out;
}

std::optional<int> parse_iterations(std::string_view text) {
  if (text.empty()) return std::nullopt;
  for (char c : text)
    if (c < '0' || c > '9') return std::nullopt;  // no sign, no spaces: from_chars alone allows '-'
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < 1) return std::nullopt;
  return value;
}

ClientServerKeys keys_from_password(std::string_view password, std::string_view salt,
                                    int iterations) {
  Key salted = crypto::pbkdf2_sha256(password, salt, iterations);
  ClientServerKeys k;
  k.client_key = crypto::hmac_sha256(crypto::view(salted), "Client Key");
  k.server_key = crypto::hmac_sha256(crypto::view(salted), "Server Key");
  crypto::cleanse(salted);
  return k;
}

Key client_proof(const Key& client_key, std::string_view auth_message) {
  Key stored = crypto::sha256(crypto::view(client_key));
  Key signature = crypto::hmac_sha256(crypto::view(stored), auth_message);
  return crypto::xor_keys(client_key, signature);
}

Key server_signature(const Key& server_key, std::string_view auth_message) {
  return crypto::hmac_sha256(crypto::view(server_key), auth_message);
}

}  // namespace pgopt::pooler::auth::scram
