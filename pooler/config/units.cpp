// Parsing and printing of the duration and size syntax shared by every config key that takes one.
#include "pooler/config/units.hpp"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <cmath>
#include <limits>

#include "pooler/config/toml_text.hpp"

namespace pgopt::pooler {
namespace {

using std::chrono::milliseconds;

struct Unit {
  std::string_view name;
  uint64_t factor;
};

constexpr std::array<Unit, 5> kDurationUnits{
    {{"ms", 1}, {"s", 1000}, {"min", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}}};
constexpr std::array<Unit, 5> kSizeUnits{
    {{"B", 1}, {"kB", 1ULL << 10}, {"MB", 1ULL << 20}, {"GB", 1ULL << 30}, {"TB", 1ULL << 40}}};

// More fractional digits than this cannot matter at millisecond resolution of a day-sized unit.
constexpr int kMaxFractionDigits = 9;

bool is_space(char c) { return c == ' ' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

template <size_t N>
std::string unit_list(const std::array<Unit, N>& units) {
  std::string out;
  for (const Unit& u : units) {
    if (!out.empty()) out += ", ";
    out += u.name;
  }
  return out;
}

// "<digits>[.<digits>]" followed by an optional unit, already split.
struct Literal {
  uint64_t whole = 0;
  uint64_t fraction = 0;  // the digits after '.', as an integer
  int fraction_digits = 0;
  std::string_view unit;
};

// Returns an error phrase, or empty on success. `what` is "duration" or "size".
std::string split_literal(std::string_view text, std::string_view what, std::string_view example,
                          Literal& out) {
  std::string_view s = trim(text);
  const auto bad = [&] {
    return fmt::format("{} is not a {}: expected a number and a unit such as {}", toml_quote(text),
                       what, toml_quote(example));
  };
  if (!s.empty() && s.front() == '-') {
    return fmt::format("{} is negative; a {} must be >= 0", toml_quote(text), what);
  }
  if (s.empty() || !is_digit(s.front())) return bad();
  size_t i = 0;
  for (; i < s.size() && is_digit(s[i]); ++i) {
    const uint64_t digit = static_cast<uint64_t>(s[i] - '0');
    if (out.whole > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      return fmt::format("{} is too large", toml_quote(text));
    }
    out.whole = out.whole * 10 + digit;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i >= s.size() || !is_digit(s[i])) return bad();
    for (; i < s.size() && is_digit(s[i]); ++i) {
      if (++out.fraction_digits > kMaxFractionDigits) {
        return fmt::format("{} has more than {} decimal places", toml_quote(text),
                           kMaxFractionDigits);
      }
      out.fraction = out.fraction * 10 + static_cast<uint64_t>(s[i] - '0');
    }
  }
  while (i < s.size() && is_space(s[i])) ++i;
  out.unit = s.substr(i);
  return {};
}

template <size_t N>
std::string unknown_unit(std::string_view text, std::string_view unit,
                         const std::array<Unit, N>& units) {
  for (const Unit& u : units) {
    if (iequals(u.name, unit)) {
      return fmt::format(
          "{} has an unknown unit {}; did you mean {}? (units are "
          "case-sensitive)",
          toml_quote(text), toml_quote(unit), toml_quote(u.name));
    }
  }
  return fmt::format("{} has an unknown unit {} (valid units: {})", toml_quote(text),
                     toml_quote(unit), unit_list(units));
}

template <size_t N>
const Unit* find_unit(std::string_view name, const std::array<Unit, N>& units) {
  for (const Unit& u : units) {
    if (u.name == name) return &u;
  }
  return nullptr;
}

uint64_t pow10(int n) {
  uint64_t p = 1;
  while (n-- > 0) p *= 10;
  return p;
}

std::string too_long(std::string_view shown) {
  return fmt::format("{} is too long (at most {})", shown, format_duration(kMaxDuration));
}

}  // namespace

UnitResult<milliseconds> parse_duration(std::string_view text) {
  Literal lit;
  if (std::string err = split_literal(text, "duration", "30s", lit); !err.empty()) {
    return {std::nullopt, std::move(err)};
  }
  const Unit* unit = lit.unit.empty() ? &kDurationUnits[1] : find_unit(lit.unit, kDurationUnits);
  if (unit == nullptr) return {std::nullopt, unknown_unit(text, lit.unit, kDurationUnits)};

  const uint64_t max_ms = static_cast<uint64_t>(kMaxDuration.count());
  const std::string shown = toml_quote(text);
  if (lit.whole > max_ms / unit->factor) return {std::nullopt, too_long(shown)};
  // Exact integer arithmetic: fraction * factor fits easily (< 10^9 * 8.64e7 < 2^64).
  const uint64_t scaled = lit.fraction * unit->factor;
  const uint64_t denominator = pow10(lit.fraction_digits);
  if (scaled % denominator != 0) {
    return {std::nullopt, fmt::format("{} is not a whole number of milliseconds", shown)};
  }
  const uint64_t ms = lit.whole * unit->factor + scaled / denominator;
  if (ms > max_ms) return {std::nullopt, too_long(shown)};
  return {milliseconds(static_cast<int64_t>(ms)), {}};
}

UnitResult<milliseconds> duration_from_seconds(double seconds) {
  const std::string shown = fmt::format("{}", seconds);
  if (!std::isfinite(seconds)) {
    return {std::nullopt, fmt::format("{} is not a finite number of seconds", shown)};
  }
  if (seconds < 0) {
    return {std::nullopt, fmt::format("{} is negative; a duration must be >= 0", shown)};
  }
  const double ms = seconds * 1000.0;
  if (ms > static_cast<double>(kMaxDuration.count())) {
    return {std::nullopt, too_long(shown + " seconds")};
  }
  const double rounded = std::round(ms);
  // A tolerance, not equality: 0.1 seconds is 100.00000000000001 ms in binary floating point.
  if (std::fabs(ms - rounded) > 1e-6) {
    return {std::nullopt, fmt::format("{} seconds is not a whole number of milliseconds", shown)};
  }
  return {milliseconds(static_cast<int64_t>(rounded)), {}};
}

UnitResult<milliseconds> duration_from_seconds(int64_t seconds) {
  if (seconds < 0) {
    return {std::nullopt, fmt::format("{} is negative; a duration must be >= 0", seconds)};
  }
  if (seconds > kMaxDuration.count() / 1000) {
    return {std::nullopt, too_long(fmt::format("{} seconds", seconds))};
  }
  return {milliseconds(seconds * 1000), {}};
}

UnitResult<uint64_t> parse_size(std::string_view text) {
  Literal lit;
  if (std::string err = split_literal(text, "size", "64MB", lit); !err.empty()) {
    return {std::nullopt, std::move(err)};
  }
  if (lit.fraction_digits > 0) {
    return {std::nullopt,
            fmt::format("{} is not a whole number; write e.g. \"1536kB\" instead of \"1.5MB\"",
                        toml_quote(text))};
  }
  const Unit* unit = lit.unit.empty() ? &kSizeUnits[0] : find_unit(lit.unit, kSizeUnits);
  if (unit == nullptr) return {std::nullopt, unknown_unit(text, lit.unit, kSizeUnits)};
  if (lit.whole > std::numeric_limits<uint64_t>::max() / unit->factor) {
    return {std::nullopt, fmt::format("{} is too large", toml_quote(text))};
  }
  return {lit.whole * unit->factor, {}};
}

std::string format_duration(milliseconds d) {
  const int64_t ms = d.count();
  if (ms == 0) return "0s";
  for (auto it = kDurationUnits.rbegin(); it != kDurationUnits.rend(); ++it) {
    const auto factor = static_cast<int64_t>(it->factor);
    if (ms % factor == 0) return fmt::format("{}{}", ms / factor, it->name);
  }
  return fmt::format("{}ms", ms);  // unreachable: ms divides everything
}

std::string format_size(uint64_t bytes) {
  if (bytes == 0) return "0B";
  for (auto it = kSizeUnits.rbegin(); it != kSizeUnits.rend(); ++it) {
    if (bytes % it->factor == 0) return fmt::format("{}{}", bytes / it->factor, it->name);
  }
  return fmt::format("{}B", bytes);
}

}  // namespace pgopt::pooler
