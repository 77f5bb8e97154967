// PostgreSQL's MD5 password scheme (AUTH_REQ_MD5): stored hash and per-connection salted response.
#include "pooler/auth/md5.hpp"

#include "pooler/auth/crypto.hpp"

namespace pgopt::pooler::auth {

std::string md5_hex(std::string_view data) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string raw = crypto::md5_digest(data);
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 0xF];
  }
  return out;
}

std::string md5_password_hash(std::string_view user, std::string_view password) {
  std::string input(password);
  input.append(user);
  return "md5" + md5_hex(input);
}

std::string md5_salted_response(std::string_view user, std::string_view secret,
                                const uint8_t salt[4]) {
  // Same rule as PgBouncer's isMD5(): a stored hash is recognised by shape alone, so a plaintext
  // password that happens to look like one is taken as a hash (PostgreSQL's CREATE ROLE does too).
  std::string inner;
  if (secret.size() == 35 && secret.starts_with("md5"))
    inner = std::string(secret.substr(3));
  else
    inner = md5_password_hash(user, secret).substr(3);
  inner.append(reinterpret_cast<const char*>(salt), 4);
  return "md5" + md5_hex(inner);
}

}  // namespace pgopt::pooler::auth
