// JSON string scanning and unescaping shared by the jsonlog reader and the capture reader: a
// string is found with memchr (no copy) and decoded only when it has escapes.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace pgopt::analyzer::input::json {

struct JsonString {
  std::string_view raw;  // between the quotes
  bool escaped = false;
};

inline size_t skip_ws(std::string_view s, size_t p) {
  while (p < s.size() && (s[p] == ' ' || s[p] == '\t' || s[p] == '\r')) ++p;
  return p;
}

// Parses a string starting at the quote at s[p]; returns the index after the closing quote or npos.
inline size_t parse_string(std::string_view s, size_t p, JsonString& out) {
  size_t q = p + 1;
  out.escaped = false;
  for (;;) {
    if (q >= s.size()) return std::string_view::npos;
    const char* hit = static_cast<const char*>(std::memchr(s.data() + q, '"', s.size() - q));
    const char* bs = static_cast<const char*>(std::memchr(s.data() + q, '\\', s.size() - q));
    if (!hit) return std::string_view::npos;
    if (bs && bs < hit) {
      out.escaped = true;
      q = size_t(bs - s.data()) + 2;
      continue;
    }
    q = size_t(hit - s.data());
    out.raw = s.substr(p + 1, q - p - 1);
    return q + 1;
  }
}

inline void put_utf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

inline bool hex4(std::string_view s, size_t p, uint32_t& v) {
  if (p + 4 > s.size()) return false;
  v = 0;
  for (size_t k = 0; k < 4; ++k) {
    char c = s[p + k];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= uint32_t(c - '0');
    else if (c >= 'a' && c <= 'f') v |= uint32_t(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= uint32_t(c - 'A' + 10);
    else return false;
  }
  return true;
}

inline std::string_view decode(const JsonString& js, std::string& out) {
  if (!js.escaped) return js.raw;
  out.clear();
  std::string_view s = js.raw;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out += s[i];
      continue;
    }
    char c = s[++i];
    switch (c) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'u': {
        uint32_t cp = 0;
        if (!hex4(s, i + 1, cp)) {
          out += c;
          break;
        }
        i += 4;
        uint32_t lo = 0;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < s.size() && s[i + 1] == '\\' && s[i + 2] == 'u' &&
            hex4(s, i + 3, lo) && lo >= 0xDC00 && lo < 0xE000) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          i += 6;
        }
        put_utf8(cp, out);
        break;
      }
      default: out += c;  // \" \\ \/
    }
  }
  return out;
}

}  // namespace pgopt::analyzer::input::json
