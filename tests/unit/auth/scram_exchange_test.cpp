// Full SCRAM exchanges between ScramClient and ScramServer with random nonces: success, wrong
// password, tampering on either side, replay, passthrough keys, and the order of calls.
#include <gtest/gtest.h>

#include <algorithm>

#include "pooler/auth/scram.hpp"

namespace pgopt::pooler::auth {
namespace {

constexpr const char* kPgVerifier =
    "SCRAM-SHA-256$4096:uoTVfzgE9CYs1A+Avg8/Fw==$sIztrhq60GvS5pGUwfFMp66ceJ99DgxXC7gTGBVSZic=:"
    "w+8dNfGm3OUkupIbawrK53UZntUuInSk0kZx15JZTY8=";

struct Outcome {
  bool server_ok = false, client_ok = false;
  std::string server_error, client_error;
  ScramFailure failure = ScramFailure::None;
};

// Runs one exchange; `tamper_*` may rewrite a message in flight.
Outcome run(ScramClient& client, ScramServer& server,
            std::string (*tamper_client_final)(std::string) = nullptr,
            std::string (*tamper_server_final)(std::string) = nullptr) {
  Outcome o;
  auto server_first = server.client_first(client.client_first(), o.server_error);
  if (!server_first) return o;
  auto client_final = client.server_first(*server_first, o.client_error);
  if (!client_final) return o;
  if (tamper_client_final) *client_final = tamper_client_final(*client_final);
  auto server_final = server.client_final(*client_final, o.server_error);
  o.failure = server.failure();
  if (!server_final) return o;
  o.server_ok = true;
  if (tamper_server_final) *server_final = tamper_server_final(*server_final);
  o.client_ok = client.server_final(*server_final, o.client_error);
  return o;
}

// Changes one base64 character inside the trailing 32-byte value (44 characters), keeping it
// valid base64 so the damage is to the bytes, not the syntax.
std::string flip_in_last_value(std::string msg) {
  char& c = msg[msg.size() - 10];
  c = c == 'A' ? 'B' : 'A';
  return msg;
}

ScramSecret secret_for(std::string_view password) {
  return make_scram_secret(password, random_bytes(16), 4096);
}

TEST(ScramExchange, RightPasswordSucceedsOnBothSides) {
  ScramSecret secret = secret_for("correct horse");
  auto client = ScramClient::with_password("correct horse");
  ScramServer server(secret);
  Outcome o = run(client, server);
  EXPECT_TRUE(o.server_ok) << o.server_error;
  EXPECT_TRUE(o.client_ok) << o.client_error;
  EXPECT_EQ(server.failure(), ScramFailure::None);
  EXPECT_NE(server.client_key(), Key{});
}

TEST(ScramExchange, PostgresVerifierAcceptsItsPassword) {
  auto secret = parse_scram_verifier(kPgVerifier);
  ASSERT_TRUE(secret);
  auto good = ScramClient::with_password("scram-secret");
  ScramServer server(*secret);
  Outcome o = run(good, server);
  EXPECT_TRUE(o.server_ok && o.client_ok) << o.server_error << o.client_error;

  auto bad = ScramClient::with_password("Scram-secret");
  ScramServer server2(*secret);
  EXPECT_FALSE(run(bad, server2).server_ok);
}

TEST(ScramExchange, WrongPasswordFailsWithoutLeakingIt) {
  auto client = ScramClient::with_password("tr0ub4dor&3");
  ScramServer server(secret_for("correct horse"));
  std::string err;
  auto server_first = server.client_first(client.client_first(), err);
  ASSERT_TRUE(server_first) << err;
  auto client_final = client.server_first(*server_first, err);
  ASSERT_TRUE(client_final) << err;
  EXPECT_FALSE(server.client_final(*client_final, err));
  EXPECT_EQ(server.failure(), ScramFailure::WrongProof);
  EXPECT_NE(err.find("wrong password"), std::string::npos) << err;
  EXPECT_EQ(err.find("tr0ub4dor"), std::string::npos);
  EXPECT_EQ(err.find(client_final->substr(client_final->find(",p=") + 3)), std::string::npos);
  EXPECT_EQ(server.client_key(), Key{});  // nothing recovered from a failed proof
}

TEST(ScramExchange, TamperedProofIsAWrongProof) {
  auto client = ScramClient::with_password("pw");
  ScramServer server(secret_for("pw"));
  Outcome o = run(client, server, flip_in_last_value);
  EXPECT_FALSE(o.server_ok);
  EXPECT_EQ(o.failure, ScramFailure::WrongProof);
}

TEST(ScramExchange, TamperedNonceInClientFinalIsRejected) {
  auto client = ScramClient::with_password("pw");
  ScramServer server(secret_for("pw"));
  Outcome o = run(client, server, [](std::string m) {
    size_t r = m.find(",r=") + 3;
    m[r] = m[r] == 'x' ? 'y' : 'x';
    return m;
  });
  EXPECT_FALSE(o.server_ok);
  EXPECT_EQ(o.failure, ScramFailure::Malformed);
  EXPECT_NE(o.server_error.find("nonce does not match"), std::string::npos) << o.server_error;
}

TEST(ScramExchange, ServerNonceNotExtendingOursIsRejectedByClient) {
  auto client = ScramClient::with_password("pw", "clientnonce");
  client.client_first();
  std::string err;
  EXPECT_FALSE(client.server_first("r=otherclientnonceSERVER,s=c2FsdA==,i=1", err));
  EXPECT_NE(err.find("does not extend"), std::string::npos) << err;
}

TEST(ScramExchange, TamperedServerSignatureIsRejectedByClient) {
  auto client = ScramClient::with_password("pw");
  ScramServer server(secret_for("pw"));
  Outcome o = run(client, server, nullptr, flip_in_last_value);
  EXPECT_TRUE(o.server_ok);
  EXPECT_FALSE(o.client_ok);
  EXPECT_NE(o.client_error.find("signature does not match"), std::string::npos) << o.client_error;
}

TEST(ScramExchange, ServerThatDoesNotKnowThePasswordIsCaught) {
  // A server (or impostor) with the right StoredKey but a wrong ServerKey accepts the proof, but
  // the client must still refuse its signature.
  ScramSecret secret = secret_for("pw");
  secret.server_key[0] ^= 1;
  auto client = ScramClient::with_password("pw");
  ScramServer server(secret);
  Outcome o = run(client, server);
  EXPECT_TRUE(o.server_ok);
  EXPECT_FALSE(o.client_ok);
}

TEST(ScramExchange, ReplayedClientFinalFailsAgainstANewServerNonce) {
  ScramSecret secret = secret_for("pw");
  auto client = ScramClient::with_password("pw", "fixedclientnonce");
  ScramServer first(secret);
  std::string err;
  std::string client_first = client.client_first();
  auto client_final = client.server_first(*first.client_first(client_first, err), err);
  ASSERT_TRUE(client_final) << err;
  ASSERT_TRUE(first.client_final(*client_final, err)) << err;

  ScramServer second(secret);
  ASSERT_TRUE(second.client_first(client_first, err));
  EXPECT_FALSE(second.client_final(*client_final, err));
  EXPECT_EQ(second.failure(), ScramFailure::Malformed);
}

TEST(ScramExchange, NoncesAreFreshAndWellFormed) {
  auto a = ScramClient::with_password("pw"), b = ScramClient::with_password("pw");
  EXPECT_NE(a.client_first(), b.client_first());
  std::string bare_nonce = a.client_first().substr(std::string("n,,n=,r=").size());
  EXPECT_EQ(bare_nonce.size(), 24u);  // 18 random bytes in base64, as libpq

  ScramSecret secret = secret_for("pw");
  ScramServer s1(secret), s2(secret);
  std::string err;
  auto f1 = s1.client_first(a.client_first(), err), f2 = s2.client_first(a.client_first(), err);
  ASSERT_TRUE(f1 && f2);
  EXPECT_NE(*f1, *f2);
  EXPECT_EQ(f1->find("r=" + bare_nonce), 0u);
  std::string combined = f1->substr(2, f1->find(',') - 2);
  EXPECT_EQ(combined.size(), bare_nonce.size() + 24);
}

TEST(ScramExchange, MadeUpSecretForUnknownUserFailsLikeAWrongPassword) {
  // What README.md suggests for users not in the list: no PBKDF2, same outcome as a bad password.
  ScramSecret mock;
  mock.salt = random_bytes(16);
  auto stored = random_bytes(32), server = random_bytes(32);
  std::copy(stored.begin(), stored.end(), mock.stored_key.begin());
  std::copy(server.begin(), server.end(), mock.server_key.begin());
  auto client = ScramClient::with_password("anything");
  ScramServer server_end(mock);
  Outcome o = run(client, server_end);
  EXPECT_FALSE(o.server_ok);
  EXPECT_EQ(o.failure, ScramFailure::WrongProof);
}

TEST(ScramPassthrough, RecoveredClientKeyLogsInWithoutThePassword) {
  ScramSecret secret = secret_for("only the client knows");
  auto client = ScramClient::with_password("only the client knows");
  ScramServer pooler_side(secret);
  ASSERT_TRUE(run(client, pooler_side).client_ok);

  auto relay = ScramClient::with_keys(pooler_side.client_key(), secret.server_key);
  ScramServer postgres_side(secret);
  Outcome o = run(relay, postgres_side);
  EXPECT_TRUE(o.server_ok) << o.server_error;
  EXPECT_TRUE(o.client_ok) << o.client_error;
}

TEST(ScramPassthrough, WrongClientKeyFails) {
  ScramSecret secret = secret_for("pw");
  auto client = ScramClient::with_password("pw");
  ScramServer pooler_side(secret);
  ASSERT_TRUE(run(client, pooler_side).client_ok);

  Key wrong = pooler_side.client_key();
  wrong[31] ^= 0x80;
  auto relay = ScramClient::with_keys(wrong, secret.server_key);
  ScramServer postgres_side(secret);
  Outcome o = run(relay, postgres_side);
  EXPECT_FALSE(o.server_ok);
  EXPECT_EQ(o.failure, ScramFailure::WrongProof);
}

TEST(ScramPassthrough, SaltAndIterationsInServerFirstAreIgnored) {
  ScramSecret secret = secret_for("pw");
  auto client = ScramClient::with_password("pw");
  ScramServer pooler_side(secret);
  ASSERT_TRUE(run(client, pooler_side).client_ok);

  // Same keys, different salt and count: a password client would derive other keys and fail.
  ScramSecret altered = secret;
  altered.salt = "another salt";
  altered.iterations = 1;
  auto relay = ScramClient::with_keys(pooler_side.client_key(), secret.server_key);
  ScramServer postgres_side(altered);
  EXPECT_TRUE(run(relay, postgres_side).client_ok);

  auto with_password = ScramClient::with_password("pw");
  ScramServer postgres_side2(altered);
  EXPECT_FALSE(run(with_password, postgres_side2).server_ok);
}

TEST(ScramOrder, ServerRefusesOutOfOrderCalls) {
  ScramSecret secret = secret_for("pw");
  std::string err;
  {
    ScramServer s(secret);
    EXPECT_FALSE(s.client_final("c=biws,r=x,p=AAAA", err));
    EXPECT_NE(err.find("unexpected"), std::string::npos) << err;
    EXPECT_EQ(s.failure(), ScramFailure::Malformed);
  }
  {
    ScramServer s(secret);
    ASSERT_TRUE(s.client_first("n,,n=,r=abc", err));
    EXPECT_FALSE(s.client_first("n,,n=,r=abc", err));
    EXPECT_FALSE(s.client_final("c=biws,r=x,p=AAAA", err));
    EXPECT_EQ(err, "SCRAM exchange already failed");
  }
  {
    // A wrong proof stays the reason, whatever is called afterwards.
    auto client = ScramClient::with_password("wrong");
    ScramServer s(secret);
    auto client_final = client.server_first(*s.client_first(client.client_first(), err), err);
    ASSERT_TRUE(client_final);
    EXPECT_FALSE(s.client_final(*client_final, err));
    EXPECT_FALSE(s.client_final(*client_final, err));
    EXPECT_EQ(s.failure(), ScramFailure::WrongProof);
  }
}

TEST(ScramOrder, ClientRefusesOutOfOrderCalls) {
  std::string err;
  {
    auto c = ScramClient::with_password("pw", "abc");
    EXPECT_FALSE(c.server_first("r=abcdef,s=c2FsdA==,i=1", err));
    EXPECT_NE(err.find("unexpected"), std::string::npos) << err;
  }
  {
    auto c = ScramClient::with_password("pw", "abc");
    EXPECT_EQ(c.client_first(), c.client_first());
    EXPECT_FALSE(c.server_final("v=AAAA", err));
    EXPECT_NE(err.find("unexpected"), std::string::npos) << err;
  }
  {
    auto c = ScramClient::with_password("pw", "abc");
    c.client_first();
    ASSERT_TRUE(c.server_first("r=abcdef,s=c2FsdA==,i=1", err)) << err;
    EXPECT_FALSE(c.server_first("r=abcdef,s=c2FsdA==,i=1", err));
    EXPECT_FALSE(c.server_final("v=AAAA", err));
    EXPECT_EQ(err, "SCRAM exchange already failed");
  }
}

}  // namespace
}  // namespace pgopt::pooler::auth
