// stderr logs: an entry is a prefixed line, its TAB-led continuation lines, and the DETAIL/HINT/...
// lines PostgreSQL writes right after it in the same write.
#include <vector>

#include "analyzer/input/log_readers.hpp"

namespace pgopt::analyzer::input {
namespace {

// A PrefixMatch stored as offsets from the start of its line, so it survives buffer compaction.
struct RelMatch {
  bool ok = false;
  Severity severity = Severity::none;
  uint32_t ts_off = 0, ts_len = 0, id_off = 0, id_len = 0, msg_off = 0;
  uint32_t user_off = 0, user_len = 0, db_off = 0, db_len = 0;
};

void set_span(std::string_view v, const char* line, uint32_t& off, uint32_t& len) {
  if (v.empty()) return;
  off = uint32_t(v.data() - line);
  len = uint32_t(v.size());
}

RelMatch to_rel(bool ok, const PrefixMatch& m, const char* line, const LogLinePrefix& prefix) {
  RelMatch r;
  r.ok = ok;
  if (!ok) return r;
  r.severity = m.severity;
  r.msg_off = uint32_t(m.message_offset);
  set_span(m.timestamp, line, r.ts_off, r.ts_len);
  set_span(prefix.has_session_id() && !m.session_id.empty() ? m.session_id : m.pid, line, r.id_off, r.id_len);
  // "[unknown]" is what %u / %d print before authentication: no name.
  if (m.user != "[unknown]") set_span(m.user, line, r.user_off, r.user_len);
  if (m.database != "[unknown]") set_span(m.database, line, r.db_off, r.db_len);
  return r;
}

struct Secondary {
  Severity severity;
  size_t msg, end;  // offsets from the entry start
};

class StderrReader {
 public:
  StderrReader(StreamWindow& w, const UnitBounds& u, const LogLinePrefix& p, WorkloadBuilder& b)
      : w_(w), u_(u), prefix_(p), b_(b) {}

  ReadStats run() {
    if (u_.start > 0 && !skip_to_first_entry()) return stats_;
    while (w_.offset() < u_.end && entry()) {
    }
    return stats_;
  }

 private:
  RelMatch match(const char* p, size_t len) {
    PrefixMatch m;
    bool ok = prefix_.match(std::string_view(p, len), m);
    return to_rel(ok, m, p, prefix_);
  }
  static bool starts_entry(const char* p, size_t len, const RelMatch& m) {
    if (len > 0 && p[0] == '\t') return false;
    return !(m.ok && is_secondary(m.severity));
  }

  // The window starts one byte before u.start: finish that line, then skip continuation lines.
  bool skip_to_first_entry() {
    size_t len = 0;
    if (w_.line(0, &len) != StreamWindow::Status::line) return false;
    w_.advance(len + 1);
    for (;;) {
      if (w_.offset() >= u_.end) return false;
      auto st = w_.line(0, &len);
      if (st == StreamWindow::Status::end) return false;
      if (st == StreamWindow::Status::too_long) {
        if (!w_.skip_line()) return false;
        continue;
      }
      const char* p = w_.anchor();
      RelMatch m = (len > 0 && p[0] == '\t') ? RelMatch{} : match(p, len);
      if (starts_entry(p, len, m)) {
        next_ = m;
        have_next_ = true;
        return true;
      }
      if (st == StreamWindow::Status::unterminated) return false;
      w_.advance(len + 1);
    }
  }

  // Reads one entry at the anchor; false at the end of the stream.
  bool entry() {
    size_t len = 0;
    auto st = w_.line(0, &len);
    if (st == StreamWindow::Status::end) return false;
    if (st == StreamWindow::Status::too_long) {
      have_next_ = false;
      stats_.oversized++;
      b_.on_unparsable(1);
      return w_.skip_line();
    }
    RelMatch first = have_next_ ? next_ : match(w_.anchor(), len);
    have_next_ = false;
    bool truncated = st == StreamWindow::Status::unterminated;
    size_t primary_end = len, rel = len + 1, lines = 1;
    subs_.clear();
    while (!truncated) {
      size_t l2 = 0;
      auto s2 = w_.line(rel, &l2);
      if (s2 == StreamWindow::Status::end) break;
      if (s2 == StreamWindow::Status::too_long) {
        // A continuation beyond the bound: drop the whole entry.
        stats_.oversized++;
        b_.on_unparsable(lines + 1);
        w_.advance(rel);
        return w_.skip_line();
      }
      const char* p = w_.anchor() + rel;
      truncated = s2 == StreamWindow::Status::unterminated;
      if (l2 > 0 && p[0] == '\t') {
        (subs_.empty() ? primary_end : subs_.back().end) = rel + l2;
      } else {
        RelMatch m = match(p, l2);
        if (!m.ok || !is_secondary(m.severity)) {
          next_ = m;
          have_next_ = true;
          truncated = false;  // the unterminated line belongs to the next entry
          break;
        }
        subs_.push_back(Secondary{m.severity, rel + m.msg_off, rel + l2});
      }
      ++lines;
      rel += l2 + 1;
    }
    if (truncated) {
      // The stream ends inside this entry (a log still being written, or a cut file).
      stats_.truncated_tail = true;
      b_.on_unparsable(lines);
      w_.advance(rel > len ? rel : len);
      return false;
    }
    const char* base = w_.anchor();
    b_.add_bytes(rel);
    if (!first.ok) {
      if (len > 0 || lines > 1) b_.on_unparsable(lines);  // blank lines are not worth a count
    } else {
      LogEvent e;
      e.severity = first.severity;
      e.timestamp = std::string_view(base + first.ts_off, first.ts_len);
      e.session = first.id_len ? session_key(std::string_view(base + first.id_off, first.id_len)) : 0;
      e.message = std::string_view(base + first.msg_off, primary_end - first.msg_off);
      e.user = std::string_view(base + first.user_off, first.user_len);
      e.database = std::string_view(base + first.db_off, first.db_len);
      for (const Secondary& s : subs_) {
        if (s.severity == Severity::detail) {
          e.detail = std::string_view(base + s.msg, s.end - s.msg);
          break;
        }
      }
      e.tabbed = true;
      e.offset = w_.offset();
      b_.on_event(e);
    }
    w_.advance(rel);
    return true;
  }

  StreamWindow& w_;
  const UnitBounds& u_;
  const LogLinePrefix& prefix_;
  WorkloadBuilder& b_;
  ReadStats stats_;
  RelMatch next_;
  bool have_next_ = false;
  std::vector<Secondary> subs_;
};

}  // namespace

ReadStats read_stderr(StreamWindow& w, const UnitBounds& u, const LogLinePrefix& prefix, WorkloadBuilder& b) {
  return StderrReader(w, u, prefix, b).run();
}

}  // namespace pgopt::analyzer::input
