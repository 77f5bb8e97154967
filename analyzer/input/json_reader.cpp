// jsonlog (PostgreSQL 15): one flat JSON object per line; only the keys we need are decoded.
#include <cstring>
#include <string>

#include "analyzer/input/json_text.hpp"
#include "analyzer/input/log_readers.hpp"

namespace pgopt::analyzer::input {
namespace {

using json::decode;
using json::JsonString;
using json::parse_string;
using json::skip_ws;

struct Record {
  JsonString timestamp, session_id, severity, message, detail, user, dbname;
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
      else if (k == "user") r.user = v;
      else if (k == "dbname") r.dbname = v;
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
  std::string msg_buf, detail_buf, ts_buf, sev_buf, sid_buf, user_buf, db_buf;
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
      e.user = decode(r.user, user_buf);
      e.database = decode(r.dbname, db_buf);
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
