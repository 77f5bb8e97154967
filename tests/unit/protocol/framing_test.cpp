// decode_frame / decode_startup framing, stream reassembly under every kind of split,
// Reader/Writer.
#include <gtest/gtest.h>

#include <random>

#include "tests/unit/protocol/protocol_test_util.hpp"

namespace pgopt::protocol {
namespace {

using test::as_bytes;
using test::as_string;
using test::FrameCollector;
using test::from_hex;
using test::message;
using test::OwnedFrame;

constexpr uint32_t kMax = 64u << 20;  // 67108864, the default max_packet_size

DecodeResult decode(std::string_view s, uint32_t max_len = kMax) {
  return decode_frame(as_bytes(s), max_len);
}

TEST(DecodeFrame, DecodesOneQuery) {
  std::string buf = from_hex("51 0000000d 73656c6563742031 00");  // Q "select 1"
  auto r = decode(buf);
  ASSERT_EQ(r.status, DecodeStatus::Frame);
  EXPECT_EQ(r.frame.type, 'Q');
  EXPECT_EQ(r.frame.size, 14u);
  EXPECT_EQ(as_string(r.frame.body), std::string("select 1\0", 9));
  EXPECT_EQ(r.frame.body.data(), reinterpret_cast<const uint8_t*>(buf.data()) + 5);  // no copy
  EXPECT_TRUE(r.error.empty());
}

TEST(DecodeFrame, StopsAtTheFirstMessage) {
  std::string buf = from_hex("53 00000004 58 00000004");  // Sync, Terminate
  auto r = decode(buf);
  ASSERT_EQ(r.status, DecodeStatus::Frame);
  EXPECT_EQ(r.frame.type, 'S');
  EXPECT_EQ(r.frame.size, 5u);
  EXPECT_TRUE(r.frame.body.empty());
  auto r2 = decode(std::string_view(buf).substr(r.frame.size));
  ASSERT_EQ(r2.status, DecodeStatus::Frame);
  EXPECT_EQ(r2.frame.type, 'X');
}

// A retriable replica read is held until its reply is whole (ClientSession::server_loop).
TEST(ReplyReady, OnlyAWholeReadyForQueryOrAnInvalidLength) {
  const std::string reply = message('T', std::string(30, 'x')) + message('D', std::string(12, 'y')) +
                            message('C', std::string("SELECT 1\0", 9)) + message('Z', "I");
  EXPECT_TRUE(reply_ready(as_bytes(reply)));
  for (size_t n = 0; n < reply.size(); ++n)
    EXPECT_FALSE(reply_ready(as_bytes(std::string_view(reply).substr(0, n)))) << "prefix of " << n;
  // What a replica under an immediate shutdown flushes: part of a result, its notice, then EOF.
  EXPECT_FALSE(reply_ready(as_bytes(message('T', "abc") + message('N', "SWARNING\0\0"))));
  // A 'Z' byte inside a body is not a message.
  EXPECT_FALSE(reply_ready(as_bytes(message('D', "ZZZZZZ"))));
  // An invalid length ends the wait (the decoder then reports it) instead of holding forever, and
  // the scan never runs past it to a 'Z' it cannot trust.
  EXPECT_TRUE(reply_ready(as_bytes(from_hex("44 00000002 5a 00000005 49"))));
  EXPECT_TRUE(reply_ready(as_bytes(message('T', "abc") + from_hex("44 80000000"))));
  EXPECT_FALSE(reply_ready(as_bytes(message('T', "abc") + from_hex("44 7fffffff"))));  // valid, incomplete
  EXPECT_TRUE(reply_ready(as_bytes(message('N', "x") + message('Z', "T") + message('T', "partial").substr(0, 4))));
}

TEST(DecodeFrame, NeedsTheHeaderAndTheWholeBody) {
  std::string buf = from_hex("51 0000000d 73656c6563742031 00");
  for (size_t n = 0; n < buf.size(); ++n) {
    auto r = decode(std::string_view(buf).substr(0, n));
    EXPECT_EQ(r.status, DecodeStatus::NeedMore) << "prefix of " << n << " bytes";
    EXPECT_TRUE(r.error.empty());
  }
}

TEST(DecodeFrame, RejectsLengthsBelowFour) {
  for (int len = 0; len < 4; ++len) {
    std::string buf = {'Q', 0, 0, 0, static_cast<char>(len), 'x', 'x', 'x', 'x'};
    auto r = decode(buf);
    ASSERT_EQ(r.status, DecodeStatus::Malformed);
    EXPECT_EQ(r.error, "invalid message length " + std::to_string(len));
  }
}

TEST(DecodeFrame, RejectsNegativeLengths) {
  auto r = decode(from_hex("51 ffffffff"));
  ASSERT_EQ(r.status, DecodeStatus::Malformed);
  EXPECT_EQ(r.error, "invalid message length -1");
  r = decode(from_hex("51 80000000"), UINT32_MAX);  // negative even when max_len would allow it
  ASSERT_EQ(r.status, DecodeStatus::Malformed);
  EXPECT_EQ(r.error, "invalid message length -2147483648");
}

TEST(DecodeFrame, RejectsOversizedLengthWithoutWaitingForTheBody) {
  auto r = decode(from_hex("64 042c1d80"));  // CopyData claiming 70000000 bytes
  ASSERT_EQ(r.status, DecodeStatus::Malformed);
  EXPECT_EQ(r.error, "message length 70000000 exceeds max_packet_size 67108864");
}

TEST(DecodeFrame, AcceptsLengthEqualToTheLimit) {
  std::string buf = message('d', std::string(96, 'x'));  // length field 100
  EXPECT_EQ(decode(buf, 100).status, DecodeStatus::Frame);
  EXPECT_EQ(decode(buf.substr(0, 50), 100).status, DecodeStatus::NeedMore);
  auto r = decode(buf, 99);
  ASSERT_EQ(r.status, DecodeStatus::Malformed);
  EXPECT_EQ(r.error, "message length 100 exceeds max_packet_size 99");
}

TEST(DecodeStartup, DecodesStartupPhaseMessages) {
  std::string ssl = from_hex("00000008 04d2162f");
  auto r = decode_startup(as_bytes(ssl), 10000);
  ASSERT_EQ(r.status, DecodeStatus::Frame);
  EXPECT_EQ(r.frame.code, kSslRequestCode);
  EXPECT_TRUE(r.frame.payload.empty());
  EXPECT_EQ(r.frame.size, 8u);
  for (size_t n = 0; n < ssl.size(); ++n) {
    EXPECT_EQ(decode_startup(as_bytes(ssl.substr(0, n)), 10000).status, DecodeStatus::NeedMore);
  }
  std::string cancel = from_hex("00000010 04d2162e 00002254 ca7e9a56 51");  // + next byte
  auto c = decode_startup(as_bytes(cancel), 10000);
  ASSERT_EQ(c.status, DecodeStatus::Frame);
  EXPECT_EQ(c.frame.code, kCancelRequestCode);
  EXPECT_EQ(c.frame.size, 16u);
  EXPECT_EQ(c.frame.payload.size(), 8u);
}

TEST(DecodeStartup, RejectsBadLengths) {
  for (int len = 0; len < 8; ++len) {
    std::string buf = {0, 0, 0, static_cast<char>(len), 0, 3, 0, 0};
    auto r = decode_startup(as_bytes(buf), 10000);
    ASSERT_EQ(r.status, DecodeStatus::Malformed);
    EXPECT_EQ(r.error, "invalid startup packet length " + std::to_string(len));
  }
  auto r = decode_startup(as_bytes(from_hex("fffffff0")), 10000);
  ASSERT_EQ(r.status, DecodeStatus::Malformed);
  EXPECT_EQ(r.error, "invalid startup packet length -16");
  r = decode_startup(as_bytes(from_hex("00002711")), 10000);
  ASSERT_EQ(r.status, DecodeStatus::Malformed);
  EXPECT_EQ(r.error, "startup packet length 10001 exceeds max_packet_size 10000");
}

// ---- Stream reassembly --------------------------------------------------------------------------

struct Stream {
  std::string bytes;
  std::vector<OwnedFrame> frames;  // what was built, independent of the decoder
};

void add(Stream& s, const std::string& msg) {
  s.bytes += msg;
  s.frames.push_back({msg[0], msg.substr(5)});
}

// A realistic frontend+backend mix: simple and extended queries, COPY, fast-path, errors, and
// messages of every size class (empty, tiny, kilobytes).
Stream realistic_stream(size_t big_copy = 0) {
  Stream s;
  std::string m;
  auto take = [&] {
    add(s, m);
    m.clear();
  };
  query(m, "SELECT 1");
  take();
  row_description(m, {"?column?"});
  take();
  data_row(m, {std::string("1")});
  take();
  command_complete(m, "SELECT 1");
  take();
  ready_for_query(m, 'I');
  take();
  for (int i = 0; i < 5; ++i) {
    Writer(m)
        .begin('P')
        .cstr("s" + std::to_string(i))
        .cstr("SELECT $1::int + " + std::to_string(i))
        .i16(1)
        .i32(23)
        .end();
    take();
    Writer(m)
        .begin('B')
        .cstr("")
        .cstr("s" + std::to_string(i))
        .i16(1)
        .i16(1)
        .i16(2)
        .i32(4)
        .raw(from_hex("0000002a"))
        .i32(-1)
        .i16(0)
        .end();
    take();
    Writer(m).begin('D').u8('P').cstr("").end();
    take();
    Writer(m).begin('E').cstr("").i32(0).end();
    take();
    Writer(m).begin('S').end();
    take();
    parse_complete(m);
    take();
    bind_complete(m);
    take();
    data_row(m, {std::string(std::to_string(42 + i)), std::nullopt});
    take();
  }
  error_response(m, "ERROR", "22012", "division by zero", "some detail");
  take();
  notice_response(m, "00000", std::string(3000, 'n'));
  take();
  Writer(m).begin('d').raw(std::string(2500, 'c')).end();
  take();
  if (big_copy > 0) {
    Writer(m).begin('d').raw(std::string(big_copy, 'C')).end();
    take();
  }
  Writer(m).begin('c').end();
  take();
  Writer(m)
      .begin('F')
      .i32(952)
      .i16(1)
      .i16(1)
      .i16(2)
      .i32(4)
      .raw(from_hex("00004000"))
      .i32(0)
      .i16(1)
      .end();
  take();
  Writer(m).begin('H').end();
  take();
  terminate(m);
  take();
  return s;
}

TEST(StreamReassembly, WholeBuffer) {
  auto s = realistic_stream();
  FrameCollector c;
  ASSERT_TRUE(c.feed(s.bytes));
  EXPECT_EQ(c.frames(), s.frames);
  EXPECT_EQ(c.pending(), 0u);
  EXPECT_GT(s.frames.size(), 40u);
}

TEST(StreamReassembly, ByteAtATime) {
  auto s = realistic_stream();
  FrameCollector c;
  for (char b : s.bytes) ASSERT_TRUE(c.feed(std::string_view(&b, 1)));
  EXPECT_EQ(c.frames(), s.frames);
  EXPECT_EQ(c.pending(), 0u);
}

TEST(StreamReassembly, SplitAtEveryOffset) {
  auto s = realistic_stream();
  std::string_view all = s.bytes;
  for (size_t cut = 0; cut <= all.size(); ++cut) {
    FrameCollector c;
    ASSERT_TRUE(c.feed(all.substr(0, cut)));
    ASSERT_TRUE(c.feed(all.substr(cut)));
    ASSERT_EQ(c.frames(), s.frames) << "split at " << cut;
    ASSERT_EQ(c.pending(), 0u);
  }
}

TEST(StreamReassembly, RandomChunks) {
  auto s = realistic_stream(200000);  // one CopyData spanning many chunks
  for (uint32_t seed : {1u, 2u, 3u, 42u, 20240601u}) {
    std::mt19937 rng(seed);
    for (size_t max_chunk : {7u, 64u, 1500u, 70000u}) {
      std::uniform_int_distribution<size_t> chunk(1, max_chunk);
      FrameCollector c;
      for (size_t pos = 0; pos < s.bytes.size();) {
        size_t n = std::min(chunk(rng), s.bytes.size() - pos);
        ASSERT_TRUE(c.feed(std::string_view(s.bytes).substr(pos, n)));
        pos += n;
      }
      ASSERT_EQ(c.frames(), s.frames) << "seed " << seed << " max chunk " << max_chunk;
      EXPECT_EQ(c.pending(), 0u);
    }
  }
}

TEST(StreamReassembly, StopsAtAMalformedMessageAfterEverythingBeforeIt) {
  auto s = realistic_stream();
  std::string bytes = s.bytes + from_hex("51 00000002") + message('S', "");
  FrameCollector c;
  for (char b : bytes) {
    if (!c.feed(std::string_view(&b, 1))) break;
  }
  EXPECT_EQ(c.frames(), s.frames);
  EXPECT_EQ(c.error(), "invalid message length 2");
}

// Random bytes must never crash, never report a frame larger than the buffer, and never report
// NeedMore for a buffer that already holds the whole claimed message.
TEST(DecodeFrame, RandomGarbageIsHandled) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<size_t> size(0, 80);
  for (int iter = 0; iter < 200000; ++iter) {
    std::string buf(size(rng), '\0');
    for (auto& b : buf) b = static_cast<char>(byte(rng));
    // Bias half the cases towards plausible small lengths so frames are actually produced.
    if (buf.size() >= 5 && (iter & 1)) {
      buf[1] = buf[2] = buf[3] = 0;
      buf[4] = static_cast<char>(byte(rng) % 90);
    }
    uint32_t max_len = (iter % 3 == 0) ? 40 : kMax;
    auto r = decode(buf, max_len);
    switch (r.status) {
      case DecodeStatus::Frame:
        ASSERT_LE(r.frame.size, buf.size());
        ASSERT_EQ(r.frame.size, r.frame.body.size() + 5);
        ASSERT_LE(r.frame.size - 1, max_len);
        ASSERT_EQ(r.frame.body.data(), reinterpret_cast<const uint8_t*>(buf.data()) + 5);
        (void)validate_frontend(r.frame);
        break;
      case DecodeStatus::NeedMore:
        if (buf.size() >= 5) {
          uint32_t len = (uint32_t{uint8_t(buf[1])} << 24) | (uint32_t{uint8_t(buf[2])} << 16) |
                         (uint32_t{uint8_t(buf[3])} << 8) | uint8_t(buf[4]);
          ASSERT_GT(size_t{len} + 1, buf.size());
        }
        break;
      case DecodeStatus::Malformed:
        ASSERT_FALSE(r.error.empty());
        break;
    }
    auto st = decode_startup(as_bytes(buf), max_len);
    if (st.status == DecodeStatus::Frame) {
      ASSERT_LE(st.frame.size, buf.size());
      ASSERT_EQ(st.frame.size, st.frame.payload.size() + 8);
    }
  }
}

// ---- Reader / Writer ----------------------------------------------------------------------------

TEST(Reader, ReadsBigEndianFields) {
  std::string b = from_hex("ff fffe 80000000 616263 00 0102 03");
  Reader r(as_bytes(b));
  EXPECT_EQ(r.u8(), 0xff);
  EXPECT_EQ(r.i16(), -2);
  EXPECT_EQ(r.i32(), INT32_MIN);
  EXPECT_EQ(r.cstr(), "abc");
  EXPECT_EQ(as_string(r.bytes(2)), from_hex("0102"));
  EXPECT_EQ(r.remaining(), 1u);
  EXPECT_EQ(as_string(r.rest()), from_hex("03"));
  EXPECT_TRUE(r.at_end());
  EXPECT_FALSE(r.failed());
}

TEST(Reader, OverrunIsStickyAndReturnsDefaults) {
  std::string b = from_hex("0001 02");
  Reader r(as_bytes(b));
  EXPECT_EQ(r.i32(), 0);
  EXPECT_TRUE(r.failed());
  EXPECT_EQ(r.i16(), 0);  // would fit, but the reader already failed
  EXPECT_EQ(r.remaining(), 3u);
  EXPECT_TRUE(r.rest().empty());
}

TEST(Reader, CstrWithoutTerminatorFails) {
  std::string b = "abc";
  Reader r(as_bytes(b));
  EXPECT_EQ(r.cstr(), "");
  EXPECT_TRUE(r.failed());
  Reader empty(std::span<const uint8_t>{});
  EXPECT_EQ(empty.cstr(), "");
  EXPECT_TRUE(empty.failed());
  Reader r2(as_bytes(b));
  EXPECT_TRUE(r2.bytes(4).empty());
  EXPECT_TRUE(r2.failed());
}

TEST(Writer, PatchesLengthsOfTypedAndUntypedMessages) {
  std::string out = "prefix";
  Writer w(out);
  w.begin('Q').cstr("hi").end();
  w.begin_untyped().i32(static_cast<int32_t>(kSslRequestCode)).end();
  w.begin('Z').u8('I').end();
  w.begin('x').i16(-2).i32(-3).raw(std::string_view("ab")).raw(as_bytes("cd")).end();
  EXPECT_EQ(out, "prefix" + from_hex("51 00000007 6869 00") + from_hex("00000008 04d2162f") +
                     from_hex("5a 00000005 49") + from_hex("78 0000000e fffe fffffffd 61626364"));
}

TEST(Writer, CstrTruncatesAtAnEmbeddedNul) {
  std::string out;
  Writer(out).begin('Q').cstr(std::string_view("sel\0ect", 7)).end();
  EXPECT_EQ(out, from_hex("51 00000008 73656c 00"));
  EXPECT_EQ(decode(out).status, DecodeStatus::Frame);
  EXPECT_EQ(validate_frontend(decode(out).frame), "");
}

}  // namespace
}  // namespace pgopt::protocol
