// Internal to pgopt_protocol: small string helpers for error messages (no fmt dependency here).
#pragma once

#include <concepts>
#include <string>
#include <string_view>

namespace pgopt::protocol::detail {

inline void append_part(std::string& s, std::string_view v) { s.append(v); }
template <std::integral T>
requires(!std::same_as<T, char> && !std::same_as<T, bool>) void append_part(std::string& s, T v) {
  s.append(std::to_string(v));
}

// cat("length ", 5, " is bad") -> "length 5 is bad". chars are deliberately not accepted: use
// quote_char so a type byte never turns into a number or an unprintable byte in a log line.
template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::string s;
  (append_part(s, parts), ...);
  return s;
}

// 'Q' for printable bytes, '\x01' otherwise.
inline std::string quote_char(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return std::string{'\'', c, '\''};
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string{'\'', '\\', 'x', kHex[u >> 4], kHex[u & 0xF], '\''};
}

}  // namespace pgopt::protocol::detail
