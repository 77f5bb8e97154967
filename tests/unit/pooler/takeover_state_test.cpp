// pooler/fleet/takeover_state.hpp: a moved client's session survives the encoding whole, and
// anything that is not a whole record of this version is refused (never half a session).
#include "pooler/fleet/takeover_state.hpp"

#include <gtest/gtest.h>

namespace pgopt::pooler::fleet {
namespace {

MovedClient sample() {
  MovedClient c;
  c.id = 0x0102030405060708ull;
  c.peer = "127.0.0.1:50001";
  c.user = "alice";
  c.database = "app";
  c.cancel_pid = (7 << 20) | 42;
  c.cancel_secret = int32_t(0x80000001u);
  c.read_your_writes = false;
  c.ryw_pending = true;
  c.ryw_lsn = 0x16b374d48ull;
  c.scram_client_key = std::string(32, '\x5a');
  c.route = 2;
  c.cache_off = true;
  c.settings = {{"DateStyle", "ISO, MDY", false},
                {"search_path", "SET search_path = app, public", true},
                {"application_name", std::string("a\0b", 3), false}};
  c.statements = {{"s1", "SELECT $1::int", {23}, "", ""},
                  {"q", "SELECT 1", {}, "PREPARE ", " AS SELECT 1"}};
  return c;
}

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(TakeoverState, RoundTrip) {
  const MovedClient c = sample();
  const std::string wire = encode(c);
  auto back = decode_moved_client(bytes_of(wire));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, c);
  EXPECT_EQ(decode_moved_client(bytes_of(encode(MovedClient{}))), MovedClient{});
}

TEST(TakeoverState, EveryTruncationAndATrailingByteAreRefused) {
  const std::string wire = encode(sample());
  for (size_t n = 0; n < wire.size(); ++n)
    EXPECT_FALSE(decode_moved_client(bytes_of(wire.substr(0, n)))) << "cut at " << n;
  EXPECT_FALSE(decode_moved_client(bytes_of(wire + "x")));
}

TEST(TakeoverState, AnotherVersionIsRefused) {
  std::string wire = encode(sample());
  wire[0] = char(kTakeoverVersion + 1);
  EXPECT_FALSE(decode_moved_client(bytes_of(wire)));
}

TEST(TakeoverState, AHugeCountIsRefusedWithoutAllocating) {
  MovedClient c;
  std::string wire = encode(c);
  // The settings count sits before the (empty) statements count and key length at the end.
  const size_t at = wire.size() - 12;
  wire[at] = wire[at + 1] = wire[at + 2] = wire[at + 3] = char(0xff);
  EXPECT_FALSE(decode_moved_client(bytes_of(wire)));
}

}  // namespace
}  // namespace pgopt::pooler::fleet
