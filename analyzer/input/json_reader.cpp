// jsonlog (PostgreSQL 15): one flat JSON object per line; only the keys we need are decoded.
#include <cstring>
#include <string>

#include "analyzer/input/log_readers.hpp"

namespace pgopt::analyzer::input {
namespace {

struct JsonString {
  std::string_view raw;  // between the quotes
  bool escaped = false;
};

inline size_t skip_ws(std::string_view s, size_t p) {
  while (p < s.size() && (s[p] == ' ' || s[p] == '\t' || s[p] == '\r')) ++p;
  return p;
}

// Parses a string starting at the quote at s[p]; returns the index after the closing quote or npos.
size_t parse_string(std::string_view s, size_t p, JsonString& out) {
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

void put_utf8(uint32_t cp, std::string& out) {
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

bool hex4(std::string_view s, size_t p, uint32_t& v) {
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

std::string_view decode(const JsonString& js, std::string& out) {
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

struct Record {
  JsonString timestamp, session_id, severity, message, detail;
  std::string_view pid;
};

bool parse_record(std::string_view s, Record& r) {
  r = Record{};
  size_t p = skip_ws(s, 0);
  if (p >= s.size() || s[p] != '{') return false;
  p = skip_ws(s, p + 1);
  if (p < s.size() && s[p] == '}') return true;
  for (;;) {
    if (p >= s.size() || s[p] != '"') return false;
    JsonString key;
    p = parse_string(s, p, key);
    if (p == std::string_view::npos) return false;
    p = skip_ws(s, p);
    if (p >= s.size() || s[p] != ':') return false;
    p = skip_ws(s, p + 1);
    if (p >= s.size()) return false;
    if (s[p] == '"') {
      JsonString v;
      p = parse_string(s, p, v);
      if (p == std::string_view::npos) return false;
      const std::string_view k = key.raw;
      if (k == "message") r.message = v;
      else if (k == "detail") r.detail = v;
      else if (k == "timestamp") r.timestamp = v;
      else if (k == "session_id") r.session_id = v;
      else if (k == "error_severity") r.severity = v;
    } else {
      // Numbers, true/false/null: PostgreSQL writes no nested values.
      size_t q = p;
      while (q < s.size() && s[q] != ',' && s[q] != '}' && s[q] != ' ') ++q;
      if (q == p) return false;
      if (key.raw == "pid") r.pid = s.substr(p, q - p);
      p = q;
    }
    p = skip_ws(s, p);
    if (p >= s.size()) return false;
    if (s[p] == '}') return skip_ws(s, p + 1) == s.size();
    if (s[p] != ',') return false;
    p = skip_ws(s, p + 1);
  }
}

}  // namespace

ReadStats read_jsonlog(StreamWindow& w, const UnitBounds& u, WorkloadBuilder& b) {
  ReadStats stats;
  using S = StreamWindow::Status;
  size_t len = 0;
  if (u.start > 0) {
    if (w.line(0, &len) != S::line) return stats;
    w.advance(len + 1);
  }
  Record r;
  std::string msg_buf, detail_buf, ts_buf, sev_buf, sid_buf;
  while (w.offset() < u.end) {
    auto st = w.line(0, &len);
    if (st == S::end) break;
    if (st == S::too_long) {
      stats.oversized++;
      b.on_unparsable(1);
      if (!w.skip_line()) break;
      continue;
    }
    if (st == S::unterminated) {
      stats.truncated_tail = true;
      b.on_unparsable(1);
      break;
    }
    std::string_view line(w.anchor(), len);
    b.add_bytes(len + 1);
    Severity sev = Severity::none;
    if (parse_record(line, r)) sev = severity_from_word(decode(r.severity, sev_buf));
    if (sev == Severity::none) {
      if (len > 0) b.on_unparsable(1);
    } else {
      LogEvent e;
      e.timestamp = decode(r.timestamp, ts_buf);
      std::string_view id = !r.session_id.raw.empty() ? decode(r.session_id, sid_buf) : r.pid;
      e.session = id.empty() ? 0 : session_key(id);
      e.severity = sev;
      e.message = decode(r.message, msg_buf);
      e.detail = decode(r.detail, detail_buf);
      e.offset = w.offset();
      b.on_event(e);
    }
    w.advance(len + 1);
  }
  return stats;
}

}  // namespace pgopt::analyzer::input
