// Durations and sizes as written in the config: PostgreSQL-style units ("500ms", "5min", "64MB").
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pgopt::pooler {

// The longest duration accepted anywhere: a year is far beyond any sane timeout, and the cap keeps
// every later timer computation far from overflow.
inline constexpr std::chrono::milliseconds kMaxDuration{365LL * 24 * 3600 * 1000};

// A value or the reason there is none (`error` is a phrase to put after the key name).
template <class T>
struct UnitResult {
  std::optional<T> value;
  std::string error;
};

// "<number>[ ]<unit>" with unit ms, s, min, h or d (case-sensitive, as in PostgreSQL); no unit
// means seconds. The number may have a fraction ("1.5s") as long as the result is whole
// milliseconds.
UnitResult<std::chrono::milliseconds> parse_duration(std::string_view text);
// A bare TOML number: seconds, integer or float; rounded to the millisecond only if that is exact
// to within floating-point noise (0.1 is fine, 0.0005 is refused).
UnitResult<std::chrono::milliseconds> duration_from_seconds(double seconds);
UnitResult<std::chrono::milliseconds> duration_from_seconds(int64_t seconds);

// "<integer>[ ]<unit>" with unit B, kB, MB, GB or TB (powers of 1024, as in PostgreSQL); no unit
// means bytes.
UnitResult<uint64_t> parse_size(std::string_view text);

// The largest unit that represents the value exactly: 120000ms -> "2min", 1500ms -> "1500ms".
std::string format_duration(std::chrono::milliseconds d);
// 67108864 -> "64MB", 1000 -> "1000B".
std::string format_size(uint64_t bytes);

}  // namespace pgopt::pooler
