// Leveled, line-at-a-time logging to stderr, safe from any worker thread.
#include "pooler/log.hpp"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <string>

namespace pgopt::pooler::log {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::Info)};

const char* tag(LogLevel l) {
  switch (l) {
    case LogLevel::Debug: return "DEBUG";
    case LogLevel::Info: return "LOG";
    case LogLevel::Warning: return "WARNING";
    case LogLevel::Error: return "ERROR";
  }
  return "LOG";
}
}  // namespace

void set_level(LogLevel level) { g_level.store(static_cast<int>(level), std::memory_order_relaxed); }
bool enabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

void write(LogLevel level, std::string_view line) {
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t t = system_clock::to_time_t(now);
  int ms = int(duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
  // One write(2) per line keeps lines whole when several workers log at once.
  std::string out = fmt::format("{}.{:03d} UTC [{}] {}: {}\n", stamp, ms, getpid(), tag(level), line);
  ssize_t ignored = ::write(STDERR_FILENO, out.data(), out.size());
  (void)ignored;
}

}  // namespace pgopt::pooler::log
