// csvlog: one record per log entry (PostgreSQL 15: 26 columns), quoted fields may span lines.
#include <array>
#include <cstring>
#include <string>

#include "analyzer/input/format_detect.hpp"
#include "analyzer/input/log_readers.hpp"

namespace pgopt::analyzer::input {
namespace {

// PostgreSQL 15 csvlog columns (src/backend/utils/error/csvlog.c), 0-based.
enum CsvColumn : size_t {
  kLogTime = 0, kUserName, kDatabaseName, kProcessId, kConnectionFrom, kSessionId, kSessionLineNum,
  kCommandTag, kSessionStartTime, kVirtualTransactionId, kTransactionId, kErrorSeverity, kSqlStateCode,
  kMessage, kDetail, kHint, kInternalQuery, kInternalQueryPos, kContext, kQuery, kQueryPos, kLocation,
  kApplicationName, kBackendType, kLeaderPid, kQueryId, kColumns
};
// Versions before 13 have fewer trailing columns; what we read is within the first 15.
constexpr size_t kMinColumns = kDetail + 1;

struct Field {
  std::string_view raw;  // without the surrounding quotes
  bool escaped = false;  // contains "" to undouble
};

size_t count_quotes(const char* p, size_t n) {
  size_t c = 0;
  for (const char* q = p; (q = static_cast<const char*>(std::memchr(q, '"', size_t(p + n - q)))); ++q) ++c;
  return c;
}

// Splits a complete record; returns the number of fields, or 0 if it is malformed.
size_t split(std::string_view rec, std::array<Field, kColumns + 4>& f) {
  size_t n = 0, p = 0;
  for (;;) {
    if (n == f.size()) return 0;
    Field& fd = f[n++];
    fd = Field{};
    if (p < rec.size() && rec[p] == '"') {
      size_t q = p + 1;
      for (;;) {
        const void* hit = std::memchr(rec.data() + q, '"', rec.size() - q);
        if (!hit) return 0;
        q = size_t(static_cast<const char*>(hit) - rec.data());
        if (q + 1 < rec.size() && rec[q + 1] == '"') {
          fd.escaped = true;
          q += 2;
          continue;
        }
        break;
      }
      fd.raw = rec.substr(p + 1, q - p - 1);
      p = q + 1;
    } else {
      const void* hit = std::memchr(rec.data() + p, ',', rec.size() - p);
      size_t q = hit ? size_t(static_cast<const char*>(hit) - rec.data()) : rec.size();
      fd.raw = rec.substr(p, q - p);
      p = q;
    }
    if (p == rec.size()) return n;
    if (rec[p] != ',') return 0;
    ++p;
  }
}

std::string_view value(const Field& f, std::string& scratch) {
  if (!f.escaped) return f.raw;
  scratch.clear();
  for (size_t i = 0; i < f.raw.size(); ++i) {
    scratch += f.raw[i];
    if (f.raw[i] == '"' && i + 1 < f.raw.size() && f.raw[i + 1] == '"') ++i;
  }
  return scratch;
}

// A unit that starts inside the file: records begin at lines that look like one ("2024-05-01
// 10:00:00.123 UTC,"), so the window moves to the first such line after the first line break.
// False when the unit holds no record start.
bool skip_to_first_record(StreamWindow& w, const UnitBounds& u) {
  using S = StreamWindow::Status;
  size_t len = 0;
  if (w.line(0, &len) != S::line) return false;
  w.advance(len + 1);
  for (;;) {
    if (w.offset() >= u.end) return false;
    auto st = w.line(0, &len);
    if (st == S::end) return false;
    if (st == S::too_long) {
      if (!w.skip_line()) return false;
      continue;
    }
    if (looks_like_csv_record(std::string_view(w.anchor(), len))) return true;
    if (st == S::unterminated) return false;
    w.advance(len + 1);
  }
}

// Unescaped copies of the fields an event keeps, reused from record to record.
struct RecordBuffers {
  std::string message, detail, user, database;
};

// One split record (`n` fields) as a LogEvent to the builder; false when it is not a log record
// (too few fields, no severity word).
bool emit_record(const std::array<Field, kColumns + 4>& fields, size_t n, uint64_t offset, RecordBuffers& bufs,
                 WorkloadBuilder& b) {
  const Severity sev = n >= kMinColumns ? severity_from_word(fields[kErrorSeverity].raw) : Severity::none;
  if (sev == Severity::none) return false;
  LogEvent e;
  e.timestamp = fields[kLogTime].raw;
  std::string_view id = !fields[kSessionId].raw.empty() ? fields[kSessionId].raw : fields[kProcessId].raw;
  e.session = id.empty() ? 0 : session_key(id);
  e.severity = sev;
  e.user = value(fields[kUserName], bufs.user);
  e.database = value(fields[kDatabaseName], bufs.database);
  e.message = value(fields[kMessage], bufs.message);
  e.detail = value(fields[kDetail], bufs.detail);
  e.offset = offset;
  b.on_event(e);
  return true;
}

}  // namespace

ReadStats read_csvlog(StreamWindow& w, const UnitBounds& u, WorkloadBuilder& b) {
  ReadStats stats;
  using S = StreamWindow::Status;
  size_t len = 0;
  if (u.start > 0 && !skip_to_first_record(w, u)) return stats;
  std::array<Field, kColumns + 4> fields;
  RecordBuffers bufs;
  for (;;) {
    auto st = w.line(0, &len);
    if (st == S::end) break;
    if (st == S::too_long) {
      stats.oversized++;
      b.on_unparsable(1);
      if (!w.skip_line()) break;
      continue;
    }
    std::string_view first(w.anchor(), len);
    bool is_record = looks_like_csv_record(first);
    // Stop at the first record that starts at or after the range end; stray lines before it are ours.
    if (w.offset() >= u.end && is_record) break;
    if (!is_record) {
      if (st == S::unterminated) {
        stats.truncated_tail = true;
        b.on_unparsable(1);
        break;
      }
      if (len > 0) b.on_unparsable(1);
      b.add_bytes(len + 1);
      w.advance(len + 1);
      continue;
    }
    bool in_quotes = count_quotes(first.data(), len) & 1;
    bool truncated = st == S::unterminated, broken = false;
    size_t rec_end = len, rel = len + 1, lines = 1;
    while (in_quotes && !truncated) {
      size_t l2 = 0;
      auto s2 = w.line(rel, &l2);
      if (s2 == S::end) {
        truncated = true;
        break;
      }
      if (s2 == S::too_long) {
        stats.oversized++;
        b.on_unparsable(lines + 1);
        w.advance(rel);
        if (!w.skip_line()) return stats;
        broken = true;
        rel = 0;
        break;
      }
      const char* p = w.anchor() + rel;
      if (looks_like_csv_record(std::string_view(p, l2))) {
        broken = true;  // an unclosed quote: the next record starts here
        break;
      }
      in_quotes ^= count_quotes(p, l2) & 1;
      truncated = s2 == S::unterminated;
      rec_end = rel + l2;
      ++lines;
      rel += l2 + 1;
    }
    if (truncated) {
      stats.truncated_tail = true;
      b.on_unparsable(lines);
      break;
    }
    if (broken) {
      if (rel > 0) {
        b.on_unparsable(lines);
        w.advance(rel);
      }
      continue;
    }
    std::string_view rec(w.anchor(), rec_end);
    if (!rec.empty() && rec.back() == '\r') rec.remove_suffix(1);
    size_t n = split(rec, fields);
    b.add_bytes(rel);
    if (!emit_record(fields, n, w.offset(), bufs, b)) b.on_unparsable(lines);
    w.advance(rel);
  }
  return stats;
}

}  // namespace pgopt::analyzer::input
