// Internal to sql/: runs parser work for long statements on a thread with a stack sized for them.
//
// libpg_query serializes, and protobuf-c unpacks and frees, parse trees recursively: a generated
// `SELECT 1+1+...+1` with a few thousand terms overflows an 8 MB stack (measured: unpack dies near
// 10000 tree levels under ASan, libpg_query's own serializer near 100000). Every tree level needs at
// least one character of SQL, so statement length bounds the depth: short statements run inline,
// longer ones on a helper thread whose stack grows with the text, and text beyond
// kMaxAnalyzedLength is not parsed at all (callers answer conservatively).
#pragma once

#include <cstddef>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace pgopt::sql::detail {

// Up to this length a statement is parsed on the caller's stack (assumed >= 8 MB, the Linux
// default for threads): at most ~2 tree levels per byte, ~1 KB of stack per level under ASan.
inline constexpr size_t kInlineParseMaxLength = 2048;
inline constexpr size_t kMaxAnalyzedLength = 256 * 1024;

// Stack for parsing `length` bytes of SQL: 2 KB per byte plus headroom (virtual memory; Linux
// commits only the pages actually touched).
constexpr size_t stack_for_sql(size_t length) { return (size_t(16) << 20) + length * 2048; }

// Runs fn(ctx) on a new thread with a stack of `bytes` and waits for it. False when no such thread
// could be created (address space or thread limits).
bool run_with_stack(size_t bytes, void (*fn)(void*), void* ctx);

// Calls f() inline for short statements, on a big-stack thread for long ones. nullopt when the
// statement is longer than kMaxAnalyzedLength or the thread could not be created. Exceptions from
// f propagate to the caller.
template <class F>
auto call_with_stack_for(size_t sql_length, F&& f) -> std::optional<decltype(f())> {
  using R = decltype(f());
  if (sql_length <= kInlineParseMaxLength) return f();
  if (sql_length > kMaxAnalyzedLength) return std::nullopt;
  struct Job {
    std::remove_reference_t<F>* f;
    std::optional<R> result;
    std::exception_ptr error;
  } job{&f, std::nullopt, nullptr};
  auto trampoline = [](void* p) {
    auto* j = static_cast<Job*>(p);
    try {
      j->result.emplace((*j->f)());
    } catch (...) {
      j->error = std::current_exception();
    }
  };
  if (!run_with_stack(stack_for_sql(sql_length), trampoline, &job)) return std::nullopt;
  if (job.error) std::rethrow_exception(job.error);
  return std::move(job.result);
}

}  // namespace pgopt::sql::detail
