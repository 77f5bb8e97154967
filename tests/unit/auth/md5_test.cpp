// PostgreSQL's MD5 scheme against a hash stored by a real PostgreSQL 15 and Python-computed
// answers.
#include "pooler/auth/md5.hpp"

#include <gtest/gtest.h>

namespace pgopt::pooler::auth {
namespace {

// From pg_authid after SET password_encryption = 'md5'; CREATE ROLE md5_user PASSWORD 'md5-secret'.
constexpr const char* kPgStored = "md594f6dfa9ce48919dd181f96e6e406c5f";

TEST(Md5, HexDigest) {
  EXPECT_EQ(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(md5_hex("The quick brown fox jumps over the lazy dog"),
            "9e107d9d372bb6826bd81d3542a419d6");
  EXPECT_EQ(md5_hex(std::string_view("a\0b", 3)).size(), 32u);
  EXPECT_NE(md5_hex(std::string_view("a\0b", 3)), md5_hex("a"));  // no C-string truncation
}

TEST(Md5, StoredHashMatchesPostgres) {
  EXPECT_EQ(md5_password_hash("md5_user", "md5-secret"), kPgStored);
  EXPECT_NE(md5_password_hash("other_user", "md5-secret"), kPgStored);  // the user is the salt
}

TEST(Md5, SaltedResponseFromPasswordOrStoredHashAgree) {
  const uint8_t salt[4] = {0x01, 0x02, 0xfe, 0xff};
  // python3: "md5" + md5(md5(b"md5-secretmd5_user").hexdigest().encode() + bytes([1,2,0xfe,0xff]))
  const std::string expected = "md5cdd1582e87beeff0089bf94bfa018dee";
  EXPECT_EQ(md5_salted_response("md5_user", "md5-secret", salt), expected);
  EXPECT_EQ(md5_salted_response("md5_user", kPgStored, salt), expected);
  // With a stored hash the user no longer matters: it is already folded in.
  EXPECT_EQ(md5_salted_response("someone_else", kPgStored, salt), expected);
}

TEST(Md5, SaltChangesTheResponse) {
  const uint8_t a[4] = {0, 0, 0, 0}, b[4] = {0, 0, 0, 1};
  EXPECT_NE(md5_salted_response("u", "p", a), md5_salted_response("u", "p", b));
  EXPECT_EQ(md5_salted_response("u", "p", a).size(), 35u);
}

TEST(Md5, OnlyThirtyFiveCharacterMd5PrefixIsTakenAsAHash) {
  const uint8_t salt[4] = {9, 8, 7, 6};
  std::string short_one = std::string(kPgStored).substr(0, 34);
  // 34 characters: a plaintext password that merely starts with "md5".
  EXPECT_EQ(md5_salted_response("md5_user", short_one, salt),
            "md5" + md5_hex(md5_hex(short_one + "md5_user") + "\x09\x08\x07\x06"));
}

}  // namespace
}  // namespace pgopt::pooler::auth
