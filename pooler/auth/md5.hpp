// PostgreSQL's MD5 password scheme: "md5" + md5hex(password + user), salted per exchange.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pgopt::pooler::auth {

std::string md5_hex(std::string_view data);
// The stored form: "md5" + md5hex(password + user).
std::string md5_password_hash(std::string_view user, std::string_view password);
// What the client sends for AuthenticationMD5Password(salt). `secret` may be the plaintext password
// or an already stored "md5..." hash (both give the same answer).
std::string md5_salted_response(std::string_view user, std::string_view secret, const uint8_t salt[4]);

}  // namespace pgopt::pooler::auth
