// The SCRAM verifier format against one stored by a real PostgreSQL 15, and the parser's refusals.
#include <gtest/gtest.h>

#include <stdexcept>

#include "pooler/auth/scram.hpp"

namespace pgopt::pooler::auth {
namespace {

// pg_authid.rolpassword after CREATE ROLE ... PASSWORD 'scram-secret' on PostgreSQL 15.
constexpr const char* kPgVerifier =
    "SCRAM-SHA-256$4096:uoTVfzgE9CYs1A+Avg8/Fw==$sIztrhq60GvS5pGUwfFMp66ceJ99DgxXC7gTGBVSZic=:"
    "w+8dNfGm3OUkupIbawrK53UZntUuInSk0kZx15JZTY8=";

TEST(ScramSecret, MakeReproducesPostgresVerifier) {
  auto salt = base64_decode("uoTVfzgE9CYs1A+Avg8/Fw==");
  ASSERT_TRUE(salt);
  ScramSecret s = make_scram_secret("scram-secret", *salt, 4096);
  EXPECT_EQ(format_scram_verifier(s), kPgVerifier);
  EXPECT_NE(format_scram_verifier(make_scram_secret("scram-secreT", *salt, 4096)), kPgVerifier);
  EXPECT_NE(format_scram_verifier(make_scram_secret("scram-secret", *salt, 4095)), kPgVerifier);
}

TEST(ScramSecret, ParseAndFormatRoundTrip) {
  auto s = parse_scram_verifier(kPgVerifier);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->iterations, 4096);
  EXPECT_EQ(s->salt.size(), 16u);
  EXPECT_EQ(format_scram_verifier(*s), kPgVerifier);
  auto salt = base64_decode("uoTVfzgE9CYs1A+Avg8/Fw==");
  EXPECT_EQ(*s, make_scram_secret("scram-secret", *salt, 4096));
}

TEST(ScramSecret, RandomSaltsGiveDifferentVerifiers) {
  ScramSecret a = make_scram_secret("pw", random_bytes(16), 1);
  ScramSecret b = make_scram_secret("pw", random_bytes(16), 1);
  EXPECT_NE(a.stored_key, b.stored_key);
  EXPECT_EQ(parse_scram_verifier(format_scram_verifier(a)), a);
}

TEST(ScramSecret, ParseRejectsMalformedVerifiers) {
  const std::string salt = "uoTVfzgE9CYs1A+Avg8/Fw==";
  const std::string stored = "sIztrhq60GvS5pGUwfFMp66ceJ99DgxXC7gTGBVSZic=";
  const std::string server = "w+8dNfGm3OUkupIbawrK53UZntUuInSk0kZx15JZTY8=";
  const std::string short_key = "sIztrhq60GvS5pGUwfFMp66ceJ99DgxXC7gTGBVSZg==";  // 31 bytes
  const std::string bad[] = {
      "",
      "md594f6dfa9ce48919dd181f96e6e406c5f",
      "SCRAM-SHA-1$4096:" + salt + "$" + stored + ":" + server,
      "scram-sha-256$4096:" + salt + "$" + stored + ":" + server,
      "SCRAM-SHA-256$0:" + salt + "$" + stored + ":" + server,
      "SCRAM-SHA-256$-1:" + salt + "$" + stored + ":" + server,
      "SCRAM-SHA-256$+4096:" + salt + "$" + stored + ":" + server,
      "SCRAM-SHA-256$ 4096:" + salt + "$" + stored + ":" + server,
      "SCRAM-SHA-256$99999999999:" + salt + "$" + stored + ":" + server,
      "SCRAM-SHA-256$:" + salt + "$" + stored + ":" + server,
      "SCRAM-SHA-256$4096:$" + stored + ":" + server,                        // empty salt
      "SCRAM-SHA-256$4096:uoTVfzgE9CYs1A+Avg8/Fw$" + stored + ":" + server,  // bad base64
      "SCRAM-SHA-256$4096:" + salt + "$" + short_key + ":" + server,
      "SCRAM-SHA-256$4096:" + salt + "$" + stored + ":" + short_key,
      "SCRAM-SHA-256$4096:" + salt + "$" + stored,
      "SCRAM-SHA-256$4096:" + salt + "$" + stored + ":" + server + ":",
      "SCRAM-SHA-256$4096:" + salt + "$" + stored + ":" + server + " ",
      "SCRAM-SHA-256$4096:" + salt + "$" + stored + "$" + server,
      "SCRAM-SHA-256$4096$" + salt + ":" + stored + ":" + server,
      "SCRAM-SHA-256$4096:" + salt + "$$" + stored + ":" + server,
  };
  for (const auto& v : bad) EXPECT_FALSE(parse_scram_verifier(v).has_value()) << v;
}

TEST(ScramSecret, MakeRefusesZeroIterations) {
  EXPECT_THROW(make_scram_secret("pw", "salt", 0), std::invalid_argument);
}

}  // namespace
}  // namespace pgopt::pooler::auth
