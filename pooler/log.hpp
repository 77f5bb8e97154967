// Leveled, line-at-a-time logging to stderr, safe from any worker thread.
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <string_view>

#include "pooler/config/config.hpp"

namespace pgopt::pooler::log {

void set_level(LogLevel level);
bool enabled(LogLevel level);
void write(LogLevel level, std::string_view line);

template <class... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(LogLevel::Debug)) write(LogLevel::Debug, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(LogLevel::Info)) write(LogLevel::Info, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(LogLevel::Warning)) write(LogLevel::Warning, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  write(LogLevel::Error, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace pgopt::pooler::log
