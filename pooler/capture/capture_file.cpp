// JSON Lines output of the capture and its atomic replacement on disk.
#include "pooler/capture/capture_file.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <unistd.h>

#include "sql/parser.hpp"

namespace pgopt::pooler::capture {

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not one.
size_t utf8_len(std::string_view s, size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  size_t n;
  uint32_t cp;
  if (b < 0x80) return 1;
  if ((b & 0xE0) == 0xC0) n = 2, cp = b & 0x1F;
  else if ((b & 0xF0) == 0xE0) n = 3, cp = b & 0x0F;
  else if ((b & 0xF8) == 0xF0) n = 4, cp = b & 0x07;
  else return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (c & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not UTF-8 either.
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

// Milliseconds to the microsecond, shortest form: 0.31, 5.2, 123.456.
void append_ms(std::string& out, double ms) {
  double r = std::round(ms * 1000.0) / 1000.0;
  if (!std::isfinite(r) || r < 0) r = 0;
  fmt::format_to(std::back_inserter(out), "{}", r);
}

template <class T>
void append_field(std::string& out, std::string_view key, const T& v) {
  out += ",\"";
  out += key;
  out += "\":";
  fmt::format_to(std::back_inserter(out), "{}", v);
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    switch (c) {
      case '"': out += "\\\""; ++i; continue;
      case '\\': out += "\\\\"; ++i; continue;
      case '\n': out += "\\n"; ++i; continue;
      case '\r': out += "\\r"; ++i; continue;
      case '\t': out += "\\t"; ++i; continue;
      case '\b': out += "\\b"; ++i; continue;
      case '\f': out += "\\f"; ++i; continue;
      default: break;
    }
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned char>(c));
      ++i;
      continue;
    }
    const size_t n = utf8_len(s, i);
    if (n == 0) {
      out += "\\ufffd";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  out += '"';
}

std::string rfc3339_ms(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = std::time_t(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms % 1000));
}

std::string to_jsonl(const Snapshot& snap, bool samples, std::chrono::system_clock::time_point written_at) {
  std::string out;
  out += "{\"format\":\"pgopt-capture\",\"version\":1,\"pgopt\":";
  append_json_string(out, PGOPT_VERSION);
  out += ",\"started_at\":\"" + rfc3339_ms(snap.started_at) + "\"";
  out += ",\"written_at\":\"" + rfc3339_ms(written_at) + "\"";
  append_field(out, "statements", snap.statements);
  append_field(out, "fingerprints", snap.queries.size());
  append_field(out, "dropped_calls", snap.dropped_calls);
  out += "}\n";
  for (const Stats& q : snap.queries) {
    out += "{\"database\":";
    append_json_string(out, q.database);
    out += ",\"dbname\":";
    append_json_string(out, q.dbname.empty() ? q.database : q.dbname);
    out += ",\"fingerprint\":\"" + sql::fingerprint_hex(q.fingerprint) + "\"";
    out += ",\"query\":";
    append_json_string(out, q.query);
    append_field(out, "calls", q.calls);
    append_field(out, "errors", q.errors);
    append_field(out, "rows", q.rows);
    out += ",\"total_ms\":";
    append_ms(out, q.total_ms);
    out += ",\"max_ms\":";
    append_ms(out, q.max_ms);
    out += ",\"p95_ms\":";
    append_ms(out, nearest_rank(q.durations_ms, 95));
    out += ",\"durations_ms\":[";
    for (size_t i = 0; i < q.durations_ms.size(); ++i) {
      if (i) out += ',';
      append_ms(out, q.durations_ms[i]);
    }
    out += ']';
    append_field(out, "primary_calls", q.primary_calls);
    append_field(out, "replica_calls", q.replica_calls);
    if (q.cache_hits > 0) append_field(out, "cache_hits", q.cache_hits);
    out += ",\"samples\":[";
    if (samples) {
      for (size_t i = 0; i < q.samples.size(); ++i) {
        if (i) out += ',';
        append_json_string(out, q.samples[i]);
      }
    }
    out += "]}\n";
  }
  return out;
}

std::string write_atomically(const std::string& path, std::string_view content) {
  const std::string tmp = path + ".tmp";
  auto fail = [](const std::string& p) { return fmt::format("{}: {}", p, std::strerror(errno)); };
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return fail(tmp);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::string e = fail(tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return e;
    }
    done += size_t(n);
  }
  // fsync before rename: after a crash the file is the old one or the new one, never empty.
  std::string e;
  if (::fsync(fd) != 0) e = fail(tmp);
  if (::close(fd) != 0 && e.empty()) e = fail(tmp);
  if (!e.empty()) {
    ::unlink(tmp.c_str());
    return e;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string e = fail(path);
    ::unlink(tmp.c_str());
    return e;
  }
  return {};
}

}  // namespace pgopt::pooler::capture
