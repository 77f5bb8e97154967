// Startup-phase packets: StartupMessage parameter lists (3.0 and newer minors), SSLRequest,
// GSSENCRequest, CancelRequest, and the layouts the server rejects.
#include <gtest/gtest.h>

#include "tests/unit/protocol/protocol_test_util.hpp"

namespace pgopt::protocol {
namespace {

using test::as_bytes;
using test::from_hex;
using namespace std::string_literals;

StartupFrame frame_of(const std::string& packet) {
  auto r = decode_startup(as_bytes(packet), 10000);
  EXPECT_EQ(r.status, DecodeStatus::Frame) << r.error;
  EXPECT_EQ(r.frame.size, packet.size());
  return r.frame;
}

std::string packet(uint32_t code, std::string_view payload) {
  std::string out;
  Writer(out).begin_untyped().i32(static_cast<int32_t>(code)).raw(payload).end();
  return out;
}

// What psql 15 sends (captured): user, database, application_name, client_encoding... here the
// exact bytes of tests/fixtures/protocol/psql_md5_select.txt.
const std::string kPsqlStartup = from_hex(
    "00000041 00030000 7573657200 6d64355f7573657200 646174616261736500 70676f70745f7465737400"
    "6170706c69636174696f6e5f6e616d6500 7073716c00 00");

TEST(Startup, ParsesPsqlStartupMessage) {
  auto f = frame_of(kPsqlStartup);
  EXPECT_EQ(f.code, kProtocolV3);
  EXPECT_EQ(validate_startup(f), "");
  std::string err;
  auto p = parse_startup_params(f.code, f.payload, err);
  ASSERT_TRUE(p) << err;
  EXPECT_EQ(p->version, kProtocolV3);
  ASSERT_EQ(p->params.size(), 3u);
  EXPECT_EQ(p->params[0], (std::pair<std::string, std::string>{"user", "md5_user"}));
  EXPECT_EQ(p->params[1], (std::pair<std::string, std::string>{"database", "pgopt_test"}));
  EXPECT_EQ(p->params[2], (std::pair<std::string, std::string>{"application_name", "psql"}));
  ASSERT_NE(p->find("database"), nullptr);
  EXPECT_EQ(*p->find("database"), "pgopt_test");
  EXPECT_EQ(p->find("options"), nullptr);
}

TEST(Startup, BuilderMatchesLibpqBytes) {
  std::string out;
  startup_message(out,
                  {{"user", "md5_user"}, {"database", "pgopt_test"}, {"application_name", "psql"}});
  EXPECT_EQ(out, kPsqlStartup);
}

TEST(Startup, MinorVersion31IsValidAndKeepsTheVersion) {
  uint32_t v31 = (3u << 16) | 1;
  std::string pkt = packet(v31, "user\0bob\0_pq_.some_option\0x\0\0"s);
  auto f = frame_of(pkt);
  EXPECT_EQ(protocol_major(f.code), 3);
  EXPECT_EQ(protocol_minor(f.code), 1);
  EXPECT_EQ(validate_startup(f), "");
  std::string err;
  auto p = parse_startup_params(f.code, f.payload, err);
  ASSERT_TRUE(p) << err;
  EXPECT_EQ(p->version, v31);
  ASSERT_NE(p->find("_pq_.some_option"), nullptr);
  EXPECT_EQ(*p->find("_pq_.some_option"), "x");
}

TEST(Startup, EmptyValuesAndRepeatedKeys) {
  std::string pkt = packet(kProtocolV3, "user\0a\0options\0\0user\0b\0\0"s);
  auto f = frame_of(pkt);
  std::string err;
  auto p = parse_startup_params(f.code, f.payload, err);
  ASSERT_TRUE(p) << err;
  EXPECT_EQ(p->params.size(), 3u);
  EXPECT_EQ(*p->find("options"), "");
  EXPECT_EQ(*p->find("user"), "b");  // the server lets the last one win
}

TEST(Startup, OnlyTheTerminatorIsAValidEmptyList) {
  std::string err;
  auto p = parse_startup_params(kProtocolV3, as_bytes(std::string(1, '\0')), err);
  ASSERT_TRUE(p) << err;
  EXPECT_TRUE(p->params.empty());
}

TEST(Startup, RejectsBadParameterLists) {
  struct Case {
    std::string payload, error;
  };
  const Case cases[] = {
      {"", "invalid startup packet layout: missing parameter list terminator"},
      {"user\0bob\0"s, "invalid startup packet layout: missing parameter list terminator"},
      {"user\0bob\0x"s, "invalid startup packet layout: parameter name is not NUL-terminated"},
      {"user"s, "invalid startup packet layout: parameter name is not NUL-terminated"},
      {"user\0"s, "invalid startup packet layout: parameter \"user\" has no value"},
      {"user\0bob"s, "invalid startup packet layout: parameter \"user\" has no value"},
      {"user\0bob\0\0x"s, "invalid startup packet layout: expected terminator as last byte"},
      {"user\0bob\0\0\0"s, "invalid startup packet layout: expected terminator as last byte"},
  };
  for (const auto& c : cases) {
    std::string err;
    EXPECT_FALSE(parse_startup_params(kProtocolV3, as_bytes(c.payload), err));
    EXPECT_EQ(err, c.error) << "payload size " << c.payload.size();
    auto pkt = packet(kProtocolV3, c.payload);
    EXPECT_EQ(validate_startup(frame_of(pkt)), c.error);
  }
}

TEST(Startup, RejectsOtherProtocolVersions) {
  auto v2 = packet(2u << 16, "user\0a\0\0"s);
  EXPECT_EQ(validate_startup(frame_of(v2)),
            "unsupported frontend protocol 2.0: server supports 3.0 to 3.0");
  auto v4 = packet((4u << 16) | 2, "\0"s);
  EXPECT_EQ(validate_startup(frame_of(v4)),
            "unsupported frontend protocol 4.2: server supports 3.0 to 3.0");
  auto bogus = packet((1234u << 16) | 9999, "");
  EXPECT_EQ(validate_startup(frame_of(bogus)),
            "unsupported frontend protocol 1234.9999: server supports 3.0 to 3.0");
}

TEST(Startup, SslAndGssEncRequests) {
  std::string out;
  ssl_request(out);
  EXPECT_EQ(out, from_hex("00000008 04d2162f"));  // what psql sends with sslmode=prefer
  auto f = frame_of(out);
  EXPECT_EQ(f.code, kSslRequestCode);
  EXPECT_EQ(validate_startup(f), "");
  auto gss = from_hex("00000008 04d21630");
  auto g = frame_of(gss);
  EXPECT_EQ(g.code, kGssEncRequestCode);
  EXPECT_EQ(validate_startup(g), "");
  EXPECT_EQ(validate_startup(frame_of(packet(kSslRequestCode, "x"))),
            "invalid length of SSLRequest packet: 9 bytes, expected 8");
  EXPECT_EQ(validate_startup(frame_of(packet(kGssEncRequestCode, "xyzw"))),
            "invalid length of GSSENCRequest packet: 12 bytes, expected 8");
}

TEST(Startup, CancelRequest) {
  // Captured: tests/fixtures/protocol/cancel_request.txt.
  std::string captured = from_hex("00000010 04d2162e 00002254 ca7e9a56");
  auto f = frame_of(captured);
  EXPECT_EQ(validate_startup(f), "");
  auto key = parse_cancel_request(f.payload);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->pid, 0x2254);
  EXPECT_EQ(key->secret, static_cast<int32_t>(0xca7e9a56));
  std::string built;
  cancel_request(built, *key);
  EXPECT_EQ(built, captured);

  EXPECT_FALSE(parse_cancel_request(as_bytes(from_hex("00002254 ca7e9a"))));
  EXPECT_FALSE(parse_cancel_request(as_bytes(from_hex("00002254 ca7e9a56 00"))));
  EXPECT_EQ(validate_startup(frame_of(packet(kCancelRequestCode, from_hex("0000000100000002 00")))),
            "invalid length of CancelRequest packet: 17 bytes, expected 16");
}

TEST(Startup, ForwardedCancelRequest) {
  // pgopt's peer-to-peer form: the same key under its own code (1234/6678), so a peer can tell a
  // forwarded cancel from a client's and never forward it twice.
  const CancelKey key{0x2254, static_cast<int32_t>(0xca7e9a56)};
  std::string built;
  forwarded_cancel_request(built, key);
  EXPECT_EQ(built, from_hex("00000010 04d2 1a16 00002254 ca7e9a56"));
  auto f = frame_of(built);
  EXPECT_EQ(f.code, kForwardedCancelCode);
  EXPECT_EQ(validate_startup(f), "");
  auto parsed = parse_cancel_request(f.payload);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->pid, key.pid);
  EXPECT_EQ(parsed->secret, key.secret);
  EXPECT_EQ(validate_startup(frame_of(packet(kForwardedCancelCode, from_hex("00000001 00000002 00")))),
            "invalid length of CancelRequest packet: 17 bytes, expected 16");
}

}  // namespace
}  // namespace pgopt::protocol
