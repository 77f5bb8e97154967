// Every kind of malformed SCRAM message, on each end, fails cleanly with a log-ready reason.
#include <gtest/gtest.h>

#include "pooler/auth/scram.hpp"

namespace pgopt::pooler::auth {
namespace {

struct Case {
  std::string msg;
  std::string error;  // expected substring of the error
};

const ScramSecret& secret() {
  static const ScramSecret s = make_scram_secret("pw", "salt", 2);
  return s;
}

// Valid base64 of 32 bytes, so cases fail on what they target, not on the proof's syntax.
const std::string kZeroKey = base64_encode(std::string(32, '\0'));

TEST(ScramMalformed, ClientFirstMessages) {
  const Case cases[] = {
      {"", "invalid channel-binding flag"},
      {"p=tls-server-end-point,,n=,r=abc", "channel binding not supported"},
      {"x,,n=,r=abc", "invalid channel-binding flag"},
      {"N,,n=,r=abc", "invalid channel-binding flag"},
      {"n", "incomplete gs2 header"},
      {"n,", "incomplete gs2 header"},
      {"n,a=bob,n=,r=abc", "authorization identity (a=) is not supported"},
      {"n,x,n=,r=abc", "invalid gs2 header"},
      {"n,,m=ext,n=,r=abc", "mandatory extension (m=) is not supported"},
      {"n,,r=abc", "expected attribute \"n\""},
      {"n,,,n=,r=abc", "expected attribute \"n\""},
      {"n,,n=", "expected attribute \"r\""},
      {"n,,n=,x=abc", "expected attribute \"r\""},
      {"n,,n=,r=", "nonce is empty or not printable"},
      {"n,,n=,r=ab c", "nonce is empty or not printable"},
      {std::string("n,,n=,r=ab\x01", 11), "nonce is empty or not printable"},
      {"n,,n=,r=ab\xc3\xa9", "nonce is empty or not printable"},
      {"n,,n=,r=abc,", "malformed extension attribute"},
      {"n,,n=,r=abc,junk", "malformed extension attribute"},
      {"n,,n=,r=abc,1=x", "malformed extension attribute"},
  };
  for (const auto& c : cases) {
    ScramServer server(secret(), "SRV");
    std::string err;
    EXPECT_FALSE(server.client_first(c.msg, err)) << c.msg;
    EXPECT_NE(err.find(c.error), std::string::npos) << c.msg << " -> " << err;
    EXPECT_EQ(server.failure(), ScramFailure::Malformed) << c.msg;
    // Once failed, the exchange cannot be resumed with a valid message.
    EXPECT_FALSE(server.client_first("n,,n=,r=abc", err));
  }
}

TEST(ScramMalformed, ClientFirstAcceptsIgnoredPartsAndExtensions) {
  for (const char* msg : {"n,,n=someone,r=abc", "y,,n=,r=abc", "n,,n=,r=abc,x=1,y=z"}) {
    ScramServer server(secret(), "SRV");
    std::string err;
    auto first = server.client_first(msg, err);
    ASSERT_TRUE(first) << msg << " -> " << err;
    EXPECT_EQ(*first, "r=abcSRV,s=" + base64_encode("salt") + ",i=2");
  }
}

TEST(ScramMalformed, ClientFinalMessages) {
  const std::string p = ",p=" + kZeroKey;
  const Case cases[] = {
      {"", "expected attribute \"c\""},
      {"r=abcSRV" + p, "expected attribute \"c\""},
      {"c=eSws,r=abcSRV" + p, "channel-binding data does not match"},
      {"c=,r=abcSRV" + p, "channel-binding data does not match"},
      {"c=biws", "expected attribute \"r\""},
      {"c=biws" + p, "expected attribute \"r\""},
      {"c=biws,r=abcSRV", "expected attribute \"p\""},
      {"c=biws,r=abcSR" + p, "nonce does not match"},
      {"c=biws,r=abc" + p, "nonce does not match"},
      {"c=biws,r=abcSRVX" + p, "nonce does not match"},
      {"c=biws,r=abcSRV,p=AAAA", "proof is not 32 bytes of base64"},
      {"c=biws,r=abcSRV,p=", "proof is not 32 bytes of base64"},
      {"c=biws,r=abcSRV,p=!!!!", "proof is not 32 bytes of base64"},
      {"c=biws,r=abcSRV" + p + ",x=1", "expected attribute \"p\" last"},
      {"c=biws,r=abcSRV" + p + ",", "expected attribute \"p\" last"},
      {"c=biws,r=abcSRV,junk" + p, "malformed extension attribute"},
      {"c=biws,r=abcSRV" + p + p, "malformed extension attribute"},
  };
  for (const auto& c : cases) {
    ScramServer server(secret(), "SRV");
    std::string err;
    ASSERT_TRUE(server.client_first("n,,n=,r=abc", err)) << err;
    EXPECT_FALSE(server.client_final(c.msg, err)) << c.msg;
    EXPECT_NE(err.find(c.error), std::string::npos) << c.msg << " -> " << err;
    EXPECT_EQ(server.failure(), ScramFailure::Malformed) << c.msg;
  }
}

TEST(ScramMalformed, ClientFinalExtensionIsAcceptedButCoveredByTheProof) {
  // The extension parses, so the failure is the proof (computed over a message without it).
  ScramServer server(secret(), "SRV");
  auto client = ScramClient::with_password("pw", "abc");
  std::string err;
  auto first = server.client_first(client.client_first(), err);
  ASSERT_TRUE(first) << err;
  auto final = client.server_first(*first, err);
  ASSERT_TRUE(final) << err;
  std::string with_ext = *final;
  with_ext.insert(with_ext.find(",p="), ",x=1");
  EXPECT_FALSE(server.client_final(with_ext, err));
  EXPECT_EQ(server.failure(), ScramFailure::WrongProof) << err;
}

TEST(ScramMalformed, ServerFirstMessages) {
  const Case cases[] = {
      {"", "expected attribute \"r\""},
      {"s=c2FsdA==,r=abcXYZ,i=1", "expected attribute \"r\""},
      {"m=ext,r=abcXYZ,s=c2FsdA==,i=1", "mandatory extension (m=) is not supported"},
      {"r=abc,s=c2FsdA==,i=1", "does not extend the client nonce"},
      {"r=abXYZ,s=c2FsdA==,i=1", "does not extend the client nonce"},
      {"r=abc XYZ,s=c2FsdA==,i=1", "does not extend the client nonce"},
      {"r=abcXYZ", "expected attribute \"s\""},
      {"r=abcXYZ,i=1,s=c2FsdA==", "expected attribute \"s\""},
      {"r=abcXYZ,s=,i=1", "salt is not valid base64"},
      {"r=abcXYZ,s=c2FsdA,i=1", "salt is not valid base64"},
      {"r=abcXYZ,s=c2FsdA==", "expected attribute \"i\""},
      {"r=abcXYZ,s=c2FsdA==,", "expected attribute \"i\""},
      {"r=abcXYZ,s=c2FsdA==,i=0", "iteration count is not a positive integer"},
      {"r=abcXYZ,s=c2FsdA==,i=-1", "iteration count is not a positive integer"},
      {"r=abcXYZ,s=c2FsdA==,i=", "iteration count is not a positive integer"},
      {"r=abcXYZ,s=c2FsdA==,i=1x", "iteration count is not a positive integer"},
      {"r=abcXYZ,s=c2FsdA==,i=99999999999", "iteration count is not a positive integer"},
      {"r=abcXYZ,s=c2FsdA==,i=1,", "malformed extension attribute"},
      {"r=abcXYZ,s=c2FsdA==,i=1,foo", "malformed extension attribute"},
  };
  for (const auto& c : cases) {
    auto client = ScramClient::with_password("pw", "abc");
    client.client_first();
    std::string err;
    EXPECT_FALSE(client.server_first(c.msg, err)) << c.msg;
    EXPECT_NE(err.find(c.error), std::string::npos) << c.msg << " -> " << err;
  }
  auto client = ScramClient::with_password("pw", "abc");
  client.client_first();
  std::string err;
  EXPECT_TRUE(client.server_first("r=abcXYZ,s=c2FsdA==,i=1,x=y", err)) << err;
}

TEST(ScramMalformed, ServerFinalMessages) {
  const Case cases[] = {
      {"", "malformed SCRAM server-final-message"},
      {"x=abc", "expected attribute \"v\" or \"e\""},
      {"v=", "signature is not 32 bytes of base64"},
      {"v=AAAA", "signature is not 32 bytes of base64"},
      {"v=****", "signature is not 32 bytes of base64"},
      {"v=" + kZeroKey + ",junk", "malformed SCRAM server-final-message"},
      {"v=" + kZeroKey, "signature does not match"},
      {"e=invalid-proof", "server rejected SCRAM authentication: invalid-proof"},
      {"e=other-error,x=1", "server rejected SCRAM authentication: other-error"},
  };
  for (const auto& c : cases) {
    auto client = ScramClient::with_password("pw", "abc");
    client.client_first();
    std::string err;
    ASSERT_TRUE(client.server_first("r=abcXYZ,s=c2FsdA==,i=1", err)) << err;
    EXPECT_FALSE(client.server_final(c.msg, err)) << c.msg;
    EXPECT_NE(err.find(c.error), std::string::npos) << c.msg << " -> " << err;
  }
}

}  // namespace
}  // namespace pgopt::pooler::auth
