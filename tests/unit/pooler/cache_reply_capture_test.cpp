// cache::ReplyCapture: only RowDescription, DataRow*, CommandComplete is kept; every other reply
// shape is abandoned with its reason.
#include "pooler/cache/reply_capture.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace pgopt::pooler::cache {
namespace {

std::string msg(char type, std::string_view body = "") {
  std::string m(1, type);
  uint32_t len = uint32_t(body.size() + 4);
  for (int shift : {24, 16, 8, 0}) m.push_back(char((len >> shift) & 0xff));
  m.append(body);
  return m;
}

const std::string kRowDescription = msg('T', std::string("\0\1id\0", 5) + std::string(18, '\0'));
const std::string kRow = msg('D', std::string("\0\1\0\0\0\1" "7", 7));
const std::string kDone = msg('C', std::string("SELECT 1\0", 9));

TEST(CacheReplyCapture, KeepsRowDescriptionRowsAndCommandComplete) {
  ReplyCapture c(1 << 20);
  EXPECT_TRUE(c.on_message(msg('1')));  // ParseComplete: skipped
  EXPECT_TRUE(c.on_message(msg('2')));  // BindComplete: skipped
  EXPECT_TRUE(c.on_message(kRowDescription));
  EXPECT_FALSE(c.complete());
  EXPECT_TRUE(c.on_message(kRow));
  EXPECT_TRUE(c.on_message(kRow));
  EXPECT_TRUE(c.on_message(kDone));
  ASSERT_TRUE(c.complete()) << c.why_not();
  const std::string bytes = c.take();
  EXPECT_EQ(bytes, kRowDescription + kRow + kRow + kDone);
  EXPECT_EQ(row_description_size(bytes), kRowDescription.size());
  EXPECT_EQ(bytes.substr(row_description_size(bytes)), kRow + kRow + kDone);  // for a client without Describe
}

TEST(CacheReplyCapture, EveryOtherShapeIsAbandonedWithItsReason) {
  struct Case {
    std::vector<std::string> messages;
    std::string why;
  };
  const std::vector<Case> cases = {
      {{kRowDescription, kRow, msg('E', "SERROR")}, "ErrorResponse"},
      {{kRowDescription, msg('N', "SNOTICE"), kRow, kDone}, "NoticeResponse"},
      {{kRowDescription, msg('S', std::string("TimeZone\0UTC\0", 13)), kDone}, "ParameterStatus"},
      {{kRowDescription, kRow, msg('s')}, "PortalSuspended"},
      {{msg('I')}, "EmptyQueryResponse"},
      {{kRowDescription, msg('A', "x"), kDone}, "NotificationResponse"},
      {{msg('2'), kRow, kDone}, "rows without RowDescription (Execute without Describe)"},
      {{msg('2'), kDone}, "CommandComplete without RowDescription"},
      {{kRowDescription, kRowDescription}, "a second RowDescription"},
      {{kRowDescription, kDone, kRow}, "a message after CommandComplete"},
      {{kRowDescription, msg('G', "x")}, "COPY"},
      {{std::string("D\0\0\0\x09xx", 7)}, "malformed message"},
      {{msg('Z', "I")}, "unexpected message 'Z'"},
  };
  for (const Case& k : cases) {
    ReplyCapture c(1 << 20);
    bool fed = true;
    for (const std::string& m : k.messages) fed = c.on_message(m);
    EXPECT_FALSE(fed) << k.why;
    EXPECT_FALSE(c.complete()) << k.why;
    EXPECT_TRUE(c.abandoned()) << k.why;
    EXPECT_EQ(c.why_not(), k.why);
  }
}

TEST(CacheReplyCapture, TooLargeIsAbandonedAndFreed) {
  ReplyCapture c(kRowDescription.size() + kRow.size());
  EXPECT_TRUE(c.on_message(kRowDescription));
  EXPECT_TRUE(c.on_message(kRow));
  EXPECT_FALSE(c.on_message(kRow));
  EXPECT_EQ(c.why_not(), "larger than max_entry_size");
  EXPECT_FALSE(c.on_message(kDone));  // stays abandoned
  EXPECT_FALSE(c.complete());
  EXPECT_TRUE(c.take().empty());
}

TEST(CacheReplyCapture, RowDescriptionSizeOfOtherBytes) {
  EXPECT_EQ(row_description_size(""), 0u);
  EXPECT_EQ(row_description_size(kRow + kDone), 0u);
  EXPECT_EQ(row_description_size(kRowDescription.substr(0, 6)), 0u);  // truncated
}

}  // namespace
}  // namespace pgopt::pooler::cache
