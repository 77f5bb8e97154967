// The relay's server -> client cutting, fed whole, byte at a time and at every split point: each
// message judged once and in order, drops and replacements in place, large messages streamed.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pooler/session/reply_scanner.hpp"

namespace pgopt::pooler::session {
namespace {

std::string msg(char type, std::string body) {
  const uint32_t len = uint32_t(body.size() + 4);
  std::string m(1, type);
  m += char(len >> 24);
  m += char(len >> 16);
  m += char(len >> 8);
  m += char(len);
  return m + body;
}

// Judges by type: 'x' dropped, 'r' replaced by an 'R' message, 's' (with body "stop") stops; 'D'
// may stream. Records what it saw.
struct Recorder final : ReplyListener {
  std::vector<std::string> seen;  // type + body, or type + "~" when streamed
  bool needs_body(char type) const override { return type != 'D'; }
  Verdict on_message(char type, std::span<const uint8_t> body, bool streamed, std::string& replacement) override {
    std::string b(reinterpret_cast<const char*>(body.data()), body.size());
    if (type == 's') return Verdict::Stop;
    seen.push_back(std::string(1, type) + (streamed ? "~" : b));
    if (type == 'x') return Verdict::Drop;
    if (type == 'r') {
      replacement = msg('R', b);
      return Verdict::Replace;
    }
    return Verdict::Forward;
  }
};

// Feeds `stream` in chunks of `chunk` bytes (the last may be shorter) through a buffer the way the
// relay does: append what was read, scan, write out, consume.
struct Run {
  std::string out;
  ReplyScanner::Status status = ReplyScanner::Status::Ok;
  std::vector<std::string> seen;
  size_t unread = 0;
};
Run feed(const std::string& stream, size_t chunk) {
  Run run;
  Recorder rec;
  ReplyScanner scanner;
  std::string buf;
  for (size_t at = 0; at < stream.size(); at += chunk) {
    buf += stream.substr(at, chunk);
    auto r = scanner.scan({reinterpret_cast<const uint8_t*>(buf.data()), buf.size()}, rec);
    run.out.append(reinterpret_cast<const char*>(r.out.data()), r.out.size());
    buf.erase(0, r.consumed);
    run.status = r.status;
    if (r.status != ReplyScanner::Status::Ok) break;
  }
  run.seen = rec.seen;
  run.unread = buf.size();
  return run;
}

TEST(ReplyScanner, ForwardsDropsAndReplacesAtEverySplit) {
  const std::string stream = msg('1', "") + msg('x', "hidden") + msg('C', "SELECT 1") + msg('r', "old") + msg('Z', "I");
  const std::string expected = msg('1', "") + msg('C', "SELECT 1") + msg('R', "old") + msg('Z', "I");
  for (size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    SCOPED_TRACE(chunk);
    auto run = feed(stream, chunk);
    EXPECT_EQ(run.status, ReplyScanner::Status::Ok);
    EXPECT_EQ(run.out, expected);
    EXPECT_EQ(run.seen, (std::vector<std::string>{"1", "xhidden", "CSELECT 1", "rold", "ZI"}));
    EXPECT_EQ(run.unread, 0u);
  }
}

TEST(ReplyScanner, ALargeRowStreamsThroughJudgedOnceByType) {
  const std::string big(10000, 'v');
  const std::string stream = msg('T', "desc") + msg('D', big) + msg('C', "SELECT 1") + msg('Z', "I");
  for (size_t chunk : {1ul, 7ul, 512ul, 4096ul}) {
    SCOPED_TRACE(chunk);
    auto run = feed(stream, chunk);
    EXPECT_EQ(run.out, stream);  // nothing held back, nothing changed
    ASSERT_EQ(run.seen.size(), 4u);
    EXPECT_EQ(run.seen[1], "D~");  // judged once, when its header came, not re-judged per chunk
    EXPECT_EQ(run.seen[3], "ZI");
  }
  // Whole in one read, it is judged with its body.
  auto whole = feed(stream, stream.size());
  EXPECT_EQ(whole.seen[1], "D" + big);
}

TEST(ReplyScanner, StopLeavesTheMessageAndTheRestUnread) {
  const std::string stream = msg('C', "a") + msg('s', "stop") + msg('Z', "I");
  for (size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    SCOPED_TRACE(chunk);
    auto run = feed(stream, chunk);
    EXPECT_EQ(run.status, ReplyScanner::Status::Stopped);
    EXPECT_EQ(run.out, msg('C', "a"));
    EXPECT_EQ(run.seen, std::vector<std::string>{"Ca"});
    EXPECT_GE(run.unread, 5u);  // the 's' header at least
  }
}

TEST(ReplyScanner, ALengthBelowFourIsMalformed) {
  std::string bad = msg('C', "a");
  bad += std::string("Z\0\0\0\3", 5);
  auto run = feed(bad, bad.size());
  EXPECT_EQ(run.status, ReplyScanner::Status::Malformed);
  EXPECT_EQ(run.out, msg('C', "a"));  // what came before is still judged and passed on
}

TEST(ReplyScanner, AllDroppedGivesNoOutput) {
  const std::string stream = msg('x', "1") + msg('x', "2");
  auto run = feed(stream, stream.size());
  EXPECT_TRUE(run.out.empty());
  EXPECT_EQ(run.seen.size(), 2u);
}

TEST(ReplyScanner, TakesOverInsideAStreamedMessage) {
  Recorder rec;
  ReplyScanner scanner(3);  // three bytes of a streamed message still to come
  const std::string rest = "abc" + msg('Z', "I");
  auto r = scanner.scan({reinterpret_cast<const uint8_t*>(rest.data()), rest.size()}, rec);
  EXPECT_EQ(r.consumed, rest.size());
  EXPECT_EQ(rec.seen, std::vector<std::string>{"ZI"});
  EXPECT_EQ(scanner.stream_left(), 0u);
}

}  // namespace
}  // namespace pgopt::pooler::session
