// The relay hot path must not allocate: decode_frame, and validate_frontend for the messages every
// query goes through. Counted with a replaced global operator new (this test binary only).
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>

#include "tests/unit/protocol/protocol_test_util.hpp"

namespace {
size_t g_allocations = 0;
}

void* operator new(size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace pgopt::protocol {
namespace {

using test::as_bytes;
using test::from_hex;

TEST(HotPath, DecodeAndValidateDoNotAllocate) {
  std::string stream;
  query(stream, "SELECT * FROM t WHERE id = 1");
  Writer w(stream);
  w.begin('P').cstr("").cstr("SELECT $1::int, $2::text").i16(2).i32(23).i32(25).end();
  w.begin('B')
      .cstr("")
      .cstr("")
      .i16(1)
      .i16(1)
      .i16(2)
      .i32(4)
      .raw(from_hex("0000002a"))
      .i32(-1)
      .i16(1)
      .i16(1)
      .end();
  w.begin('D').u8('P').cstr("").end();
  w.begin('E').cstr("").i32(0).end();
  w.begin('C').u8('S').cstr("s1").end();
  w.begin('F').i32(952).i16(0).i16(1).i32(1).raw(std::string_view("x")).i16(0).end();
  w.begin('d').raw(std::string_view("1\t2\n")).end();
  w.begin('H').end();
  sync(stream);
  terminate(stream);

  auto bytes = as_bytes(stream);
  size_t frames = 0;
  size_t before = g_allocations;
  for (size_t pos = 0; pos < bytes.size();) {
    auto partial = decode_frame(bytes.subspan(pos, 3), 1u << 20);  // NeedMore path too
    EXPECT_EQ(partial.status, DecodeStatus::NeedMore);
    auto r = decode_frame(bytes.subspan(pos), 1u << 20);
    ASSERT_EQ(r.status, DecodeStatus::Frame);
    ASSERT_TRUE(validate_frontend(r.frame).empty());
    pos += r.frame.size;
    ++frames;
  }
  size_t allocations = g_allocations - before;
  EXPECT_EQ(frames, 11u);
  EXPECT_EQ(allocations, 0u);
}

TEST(HotPath, AllocationCounterWorks) {
  size_t before = g_allocations;
  auto* p = new std::string(100, 'x');  // guard against the counter silently not being used
  delete p;
  EXPECT_GE(g_allocations - before, 1u);
}

}  // namespace
}  // namespace pgopt::protocol
