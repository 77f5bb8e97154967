// Base64 as SCRAM uses it: RFC 4648 vectors, binary round trips and the strict decoder's refusals.
#include <gtest/gtest.h>

#include "pooler/auth/scram.hpp"

namespace pgopt::pooler::auth {
namespace {

TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> cases[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (auto [raw, text] : cases) {
    EXPECT_EQ(base64_encode(raw), text) << raw;
    auto back = base64_decode(text);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(*back, raw);
  }
}

TEST(Base64, RoundTripsEveryByteValue) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t len = 0; len <= all.size(); len += 37) {
    std::string raw = all.substr(0, len);
    auto back = base64_decode(base64_encode(raw));
    ASSERT_TRUE(back.has_value()) << len;
    EXPECT_EQ(*back, raw) << len;
  }
}

TEST(Base64, LargeInputCrossesEncoderChunks) {
  std::string raw = random_bytes(3 * 4096 * 2 + 5);
  std::string text = base64_encode(raw);
  EXPECT_EQ(text.size(), (raw.size() + 2) / 3 * 4);
  EXPECT_EQ(text.find('\n'), std::string::npos);
  EXPECT_EQ(base64_decode(text), raw);
}

TEST(Base64, RejectsAnythingButTheCanonicalSpelling) {
  const char* bad[] = {
      "Zg",        // unpadded
      "Zg=",       // short padding
      "Z===",      // three pad characters
      "====",      // only padding
      "Zg==Zg==",  // padding in the middle
      "Zm=v",      // '=' inside a quantum
      "Zh==",      // unused bits set: non-canonical spelling of "f"
      "Zm9=",      // likewise for "fo"
      " Zm9v",     // whitespace is not skipped
      "Zm9v\n",
      "Zm-v",  // URL-safe alphabet is a different encoding
      "Zm_v",
      "Zm9v=",  // length not a multiple of 4
  };
  for (const char* text : bad) EXPECT_FALSE(base64_decode(text).has_value()) << text;
  EXPECT_FALSE(base64_decode(std::string_view("Zm\0v", 4)).has_value());
}

TEST(RandomBytes, HasTheAskedLengthAndVaries) {
  EXPECT_EQ(random_bytes(0).size(), 0u);
  std::string a = random_bytes(32), b = random_bytes(32);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);  // 2^-256 chance of a false failure
}

}  // namespace
}  // namespace pgopt::pooler::auth
