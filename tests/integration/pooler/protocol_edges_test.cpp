// What libpq never sends: SSL/GSS requests, protocol negotiation, malformed and oversized messages.
// Each bad message closes that client only, with an 08P01 ErrorResponse.
#include "raw_client.hpp"

namespace pgopt::test {
namespace {

TEST(ProtocolEdges, SslAndGssRequestsAreAnsweredNThenLoginWorks) {
  Pooler p;
  for (uint32_t code : {80877103u, 80877104u}) {
    RawClient c(p.port);
    ASSERT_TRUE(c.connected());
    std::string req;
    RawClient::put32(req, 8);
    RawClient::put32(req, code);
    ASSERT_TRUE(c.send_raw(req));
    EXPECT_EQ(c.read_bytes(1), "N");
    EXPECT_TRUE(c.login());
  }
  // libpq's default sslmode=prefer goes through the same path.
  Conn lib = connect_ok(p.conninfo("postgres", "pgopt_test", "sslmode=prefer"));
  EXPECT_EQ(value(lib.get(), "SELECT 1"), "1");
}

TEST(ProtocolEdges, NewerMinorVersionAndPqOptionsAreNegotiatedDown) {
  Pooler p;
  RawClient c(p.port);
  ASSERT_TRUE(c.send_startup((3u << 16) | 1, {{"user", "postgres"}, {"database", "pgopt_test"}, {"_pq_.future", "1"}}));
  auto msgs = c.read_until_ready_or_error();
  ASSERT_FALSE(msgs.empty());
  EXPECT_EQ(msgs.front().type, 'v');  // NegotiateProtocolVersion: newest minor 0, option not recognised
  ASSERT_GE(msgs.front().body.size(), 8u);
  uint32_t minor, count;
  std::memcpy(&minor, msgs.front().body.data(), 4);
  std::memcpy(&count, msgs.front().body.data() + 4, 4);
  EXPECT_EQ(ntohl(minor), 0u);
  EXPECT_EQ(ntohl(count), 1u);
  EXPECT_NE(msgs.front().body.find("_pq_.future"), std::string::npos);
  EXPECT_EQ(msgs.back().type, 'Z');
}

TEST(ProtocolEdges, UnsupportedMajorVersionIsRefused) {
  Pooler p;
  RawClient c(p.port);
  ASSERT_TRUE(c.send_startup(4u << 16, {{"user", "postgres"}}));
  auto m = c.read_message();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, 'E');
  EXPECT_EQ(RawClient::sqlstate(*m), "0A000");
  EXPECT_TRUE(c.closed_by_peer());
}

struct BadMessage {
  std::string name;
  std::string bytes;  // sent after a successful login
};

std::string frame(char type, const std::string& body, int32_t len_delta = 0) {
  std::string s(1, type);
  RawClient::put32(s, uint32_t(int32_t(body.size() + 4) + len_delta));
  return s + body;
}

class Malformed : public ::testing::TestWithParam<BadMessage> {};

TEST_P(Malformed, ClosesOnlyThatClientWith08P01) {
  PoolerOptions o;
  o.pooler_extra = "max_packet_size = \"64kB\"\n";
  Pooler p(o);
  Conn bystander = connect_ok(p.conninfo());
  ok(bystander.get(), "BEGIN");
  ok(bystander.get(), "SELECT 1");
  RawClient c(p.port);
  ASSERT_TRUE(c.login());
  ASSERT_TRUE(c.send_raw(GetParam().bytes));
  auto m = c.read_message();
  ASSERT_TRUE(m) << "no reply; log:\n" << p.log();
  EXPECT_EQ(m->type, 'E');
  EXPECT_EQ(RawClient::sqlstate(*m), "08P01");
  EXPECT_TRUE(c.closed_by_peer());
  // The other client, mid-transaction on its own server, never noticed.
  EXPECT_EQ(value(bystander.get(), "SELECT 'unaffected'"), "unaffected");
  ok(bystander.get(), "COMMIT");
  EXPECT_TRUE(p.running());
  Conn next = connect_ok(p.conninfo());
  EXPECT_EQ(value(next.get(), "SELECT 2"), "2");
}

INSTANTIATE_TEST_SUITE_P(
    Messages, Malformed,
    ::testing::Values(BadMessage{"length_below_four", frame('Q', "", -2)},
                      BadMessage{"negative_length", std::string("Q\xff\xff\xff\xf0", 5)},
                      BadMessage{"oversized", frame('Q', std::string(100 * 1024, 'x') + '\0')},
                      BadMessage{"unknown_type", frame('z', "hello")},
                      BadMessage{"password_after_login", frame('p', std::string("secret") + '\0')},
                      BadMessage{"query_without_terminator", frame('Q', "SELECT 1")},
                      BadMessage{"bind_with_bad_counts", frame('B', std::string("\0\0\0\x05", 4))}),
    [](const auto& info) { return info.param.name; });

// A first word no startup packet can have as its length is closed without a reply, as PostgreSQL
// closes it (it logs the length and answers nothing): an HTTP probe, or node-postgres's connect()
// followed at once by end(), which writes Terminate before the startup packet and raises any FATAL
// it is sent back. The pooler logs why and goes on.
TEST(ProtocolEdges, AnImpossibleStartupLengthIsClosedWithoutAReply) {
  Pooler p;
  const std::string terminate_then_startup = frame('X', "") + std::string("\0\0\0\x08\0\x03\0\0", 8);
  for (const std::string& first : {std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), terminate_then_startup}) {
    RawClient c(p.port);
    ASSERT_TRUE(c.send_raw(first));
    EXPECT_EQ(c.read_bytes(1), "") << "a reply to an impossible startup packet";
    EXPECT_TRUE(c.closed_by_peer());
  }
  EXPECT_TRUE(p.wait_log("invalid length of startup packet")) << p.log();
  EXPECT_TRUE(p.running());
  Conn next = connect_ok(p.conninfo());
  EXPECT_EQ(value(next.get(), "SELECT 2"), "2");
}

// A startup packet of a valid length whose contents are wrong gets PostgreSQL's FATAL.
TEST(ProtocolEdges, ABadStartupLayoutIsRefusedWith08P01) {
  Pooler p;
  RawClient c(p.port);
  std::string body;
  RawClient::put32(body, 3u << 16);
  body += std::string("user\0bob", 8);  // no terminators
  std::string msg;
  RawClient::put32(msg, uint32_t(body.size() + 4));
  ASSERT_TRUE(c.send_raw(msg + body));
  auto m = c.read_message();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, 'E');
  EXPECT_EQ(RawClient::sqlstate(*m), "08P01");
  EXPECT_TRUE(c.closed_by_peer());
}

}  // namespace
}  // namespace pgopt::test
