// A joinable pthread with a caller-chosen stack size (std::thread cannot set one).
#include "sql/deep_stack.hpp"

#include <pthread.h>

namespace pgopt::sql::detail {
namespace {

struct Start {
  void (*fn)(void*);
  void* ctx;
};

void* thread_main(void* p) {
  auto* s = static_cast<Start*>(p);
  s->fn(s->ctx);
  return nullptr;
}

}  // namespace

bool run_with_stack(size_t bytes, void (*fn)(void*), void* ctx) {
  pthread_attr_t attr;
  if (pthread_attr_init(&attr) != 0) return false;
  bool ok = pthread_attr_setstacksize(&attr, bytes) == 0;
  pthread_t thread;
  Start start{fn, ctx};
  ok = ok && pthread_create(&thread, &attr, thread_main, &start) == 0;
  pthread_attr_destroy(&attr);
  if (!ok) return false;
  pthread_join(thread, nullptr);
  return true;
}

}  // namespace pgopt::sql::detail
