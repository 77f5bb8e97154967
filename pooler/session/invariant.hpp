// PGOPT_ASSERT: an invariant of the relay's state machines, checked in debug and sanitizer builds.
#pragma once

#include <cstdio>
#include <cstdlib>

// On in builds without NDEBUG and in the sanitizer builds (CMake defines PGOPT_ASSERTIONS there),
// which are the ones the test suites run under; compiled out of the release build, where a broken
// invariant shows as a protocol error the relay already handles (the client is closed, not the
// process).
#if !defined(NDEBUG) || defined(PGOPT_ASSERTIONS)
#define PGOPT_ASSERT(cond)                                                                       \
  do {                                                                                           \
    if (!(cond)) {                                                                               \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);        \
      std::abort();                                                                              \
    }                                                                                            \
  } while (0)
#else
#define PGOPT_ASSERT(cond) \
  do {                     \
  } while (0)
#endif
