// Both SCRAM ends against the RFC 7677 section 3 test vector and its PostgreSQL-style variants.
//
// Nonce injection: ScramServer's `server_nonce` is the server's own part, which it appends to the
// client's nonce; here "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0". The RFC's client-first names the user
// ("n=user") while libpq sends "n="; the AuthMessage differs, so the "n=" and "y,," variants have
// their own expected values, computed independently with Python's hashlib/hmac:
//   sp = hashlib.pbkdf2_hmac('sha256', b'pencil', b64decode(salt), 4096)
//   ck = hmac(sp, b"Client Key"); sk = hmac(sp, b"Server Key")
//   proof = ck XOR hmac(sha256(ck), AuthMessage); v = hmac(sk, AuthMessage)
#include <gtest/gtest.h>

#include "pooler/auth/scram.hpp"

namespace pgopt::pooler::auth {
namespace {

constexpr const char* kClientNonce = "rOprNGfwEbeRWgbNEkqO";
constexpr const char* kServerPart = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr const char* kServerFirst =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr const char* kFinalNoProof = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";

// RFC 7677 section 3.
constexpr const char* kRfcProof = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr const char* kRfcVerifier = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
// Same exchange with "n=" (libpq).
constexpr const char* kPgProof = "qvT2SWdEH5Q06albL+hjSYuUhCG7VndFyzIb7CK4n9k=";
constexpr const char* kPgVerifier = "v=3HO6Qt1M4MKJrmlKaoOqLAI0/0TV0HZe7J9H3MBtSOg=";
// Same with gs2 header "y,," (client supports channel binding, thinks the server does not).
constexpr const char* kYProof = "VpuC5DGQa5ro9tXE9MnKs69NH1nxnuregZZcclqIGfM=";
constexpr const char* kYVerifier = "v=FOmOj9BpTGwvnzwBtWQjBaPmVxT9I8IeHBOhcIPu3us=";

ScramSecret pencil() {
  return make_scram_secret("pencil", *base64_decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
}

std::string final_with(const char* proof) { return std::string(kFinalNoProof) + ",p=" + proof; }

TEST(ScramRfc7677, ServerSide) {
  ScramServer server(pencil(), kServerPart);
  std::string err;
  auto first = server.client_first("n,,n=user,r=rOprNGfwEbeRWgbNEkqO", err);
  ASSERT_TRUE(first) << err;
  EXPECT_EQ(*first, kServerFirst);
  auto final = server.client_final(final_with(kRfcProof), err);
  ASSERT_TRUE(final) << err;
  EXPECT_EQ(*final, kRfcVerifier);
  EXPECT_EQ(server.failure(), ScramFailure::None);
}

TEST(ScramRfc7677, ClientSide) {
  auto client = ScramClient::with_password("pencil", kClientNonce);
  client.set_username("user");
  EXPECT_EQ(client.client_first(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  std::string err;
  auto final = client.server_first(kServerFirst, err);
  ASSERT_TRUE(final) << err;
  EXPECT_EQ(*final, final_with(kRfcProof));
  EXPECT_TRUE(client.server_final(kRfcVerifier, err)) << err;
}

TEST(ScramRfc7677, PostgresEmptyUserNameServerSide) {
  ScramServer server(pencil(), kServerPart);
  std::string err;
  auto first = server.client_first("n,,n=,r=rOprNGfwEbeRWgbNEkqO", err);
  ASSERT_TRUE(first) << err;
  EXPECT_EQ(*first, kServerFirst);
  auto final = server.client_final(final_with(kPgProof), err);
  ASSERT_TRUE(final) << err;
  EXPECT_EQ(*final, kPgVerifier);
}

TEST(ScramRfc7677, PostgresEmptyUserNameClientSide) {
  auto client = ScramClient::with_password("pencil", kClientNonce);
  EXPECT_EQ(client.client_first(), "n,,n=,r=rOprNGfwEbeRWgbNEkqO");
  std::string err;
  auto final = client.server_first(kServerFirst, err);
  ASSERT_TRUE(final) << err;
  EXPECT_EQ(*final, final_with(kPgProof));
  EXPECT_TRUE(client.server_final(kPgVerifier, err)) << err;
}

TEST(ScramRfc7677, RfcProofIsWrongForPostgresMessage) {
  // The user name is covered by the proof even though the server ignores it otherwise.
  ScramServer server(pencil(), kServerPart);
  std::string err;
  ASSERT_TRUE(server.client_first("n,,n=,r=rOprNGfwEbeRWgbNEkqO", err));
  EXPECT_FALSE(server.client_final(final_with(kRfcProof), err));
  EXPECT_EQ(server.failure(), ScramFailure::WrongProof);
}

TEST(ScramRfc7677, ServerAcceptsYFlagWithMatchingChannelBindingData) {
  ScramServer server(pencil(), kServerPart);
  std::string err;
  ASSERT_TRUE(server.client_first("y,,n=,r=rOprNGfwEbeRWgbNEkqO", err)) << err;
  std::string final =
      "c=eSws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=" + std::string(kYProof);
  auto v = server.client_final(final, err);
  ASSERT_TRUE(v) << err;
  EXPECT_EQ(*v, kYVerifier);
}

TEST(ScramRfc7677, ServerRejectsChannelBindingDataOfTheOtherFlag) {
  ScramServer server(pencil(), kServerPart);
  std::string err;
  ASSERT_TRUE(server.client_first("y,,n=,r=rOprNGfwEbeRWgbNEkqO", err));
  EXPECT_FALSE(server.client_final(final_with(kYProof), err));  // c=biws after "y,,"
  EXPECT_EQ(server.failure(), ScramFailure::Malformed);
  EXPECT_NE(err.find("channel-binding data"), std::string::npos) << err;
}

TEST(ScramRfc7677, PassthroughKeysReproduceTheRfcProof) {
  ScramSecret secret = pencil();
  ScramServer server(secret, kServerPart);
  std::string err;
  ASSERT_TRUE(server.client_first("n,,n=user,r=rOprNGfwEbeRWgbNEkqO", err));
  ASSERT_TRUE(server.client_final(final_with(kRfcProof), err)) << err;

  auto client = ScramClient::with_keys(server.client_key(), secret.server_key, kClientNonce);
  client.set_username("user");
  client.client_first();
  auto final = client.server_first(kServerFirst, err);
  ASSERT_TRUE(final) << err;
  EXPECT_EQ(*final, final_with(kRfcProof));
  EXPECT_TRUE(client.server_final(kRfcVerifier, err)) << err;
}

TEST(ScramRfc7677, UserNameIsEscapedAsSaslname) {
  auto client = ScramClient::with_password("pencil", kClientNonce);
  client.set_username("a,b=c");
  EXPECT_EQ(client.client_first(), "n,,n=a=2Cb=3Dc,r=rOprNGfwEbeRWgbNEkqO");
  ScramServer server(pencil(), kServerPart);
  std::string err;
  EXPECT_TRUE(server.client_first(client.client_first(), err)) << err;
}

}  // namespace
}  // namespace pgopt::pooler::auth
