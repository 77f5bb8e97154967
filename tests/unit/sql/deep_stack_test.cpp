// call_with_stack_for(): inline for short statements, on a big-stack thread for long ones, with
// results and exceptions carried back to the caller.
#include "sql/deep_stack.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <functional>
#include <thread>

namespace pgopt::sql::detail {
namespace {

TEST(DeepStack, ShortRunsInlineLongRunsElsewhere) {
  auto here = std::this_thread::get_id();
  auto where = [&] { return std::this_thread::get_id() == here; };
  EXPECT_EQ(call_with_stack_for(kInlineParseMaxLength, where), std::optional<bool>(true));
  EXPECT_EQ(call_with_stack_for(kInlineParseMaxLength + 1, where), std::optional<bool>(false));
  EXPECT_EQ(call_with_stack_for(kMaxAnalyzedLength + 1, where), std::nullopt);
}

TEST(DeepStack, HelperThreadReallyHasTheStack) {
  // 64 MB of frames would overflow a default 8 MB stack; the helper gets stack_for_sql(64 KiB).
  std::function<int(int)> depth = [&](int n) -> int {
    volatile char pad[4096];
    pad[0] = char(n);
    return n == 0 ? pad[0] : depth(n - 1) + 1;
  };
  auto r = call_with_stack_for(64 * 1024, [&] { return depth(16 * 1024); });
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 16 * 1024);
}

TEST(DeepStack, ExceptionsReachTheCaller) {
  EXPECT_THROW(call_with_stack_for(10000, []() -> int { throw std::runtime_error("boom"); }), std::runtime_error);
}

}  // namespace
}  // namespace pgopt::sql::detail
