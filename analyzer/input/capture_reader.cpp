// The capture file (docs/capture_format.md, version 1): a strict header check, one QueryGroup per
// entry line, and every malformed line reported as FILE:LINE (a bad file loses nothing silently:
// any error and the file is not used at all).
#include "analyzer/input/capture_reader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include "analyzer/input/json_line.hpp"
#include "analyzer/input/reservoir.hpp"

namespace pgopt::analyzer {
namespace {

using input::json::Value;
using Kind = input::json::Value::Kind;

constexpr std::string_view kFormat = "pgopt-capture";
constexpr uint64_t kVersion = 1;
// Past this many, malformed lines are counted rather than each reported.
constexpr size_t kMaxLineErrors = 20;

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s.substr(0, 60)) out += (static_cast<unsigned char>(c) < 0x20 ? '?' : c);
  return out + (s.size() > 60 ? "...\"" : "\"");
}

// What a wrong value was, for "must be ..., not X" messages.
std::string shown(const Value& v) {
  if (v.kind == Kind::Number) return v.text;
  if (v.kind == Kind::String) return quoted(v.text);
  return std::string(input::json::kind_name(v.kind));
}

bool fail(std::string& why, std::string what) {
  why = std::move(what);
  return false;
}

// Field readers: false with `why` set when the member is missing or of the wrong kind.
bool get_string(const Value& o, std::string_view key, std::string& out, std::string& why) {
  const Value* v = o.find(key);
  if (!v) return fail(why, "\"" + std::string(key) + "\" is missing");
  if (v->kind != Kind::String) return fail(why, "\"" + std::string(key) + "\" must be a string, not " + shown(*v));
  out = v->text;
  return true;
}

bool get_count(const Value& o, std::string_view key, uint64_t& out, std::string& why) {
  const Value* v = o.find(key);
  if (!v) return fail(why, "\"" + std::string(key) + "\" is missing");
  auto n = v->as_count();
  if (!n) return fail(why, "\"" + std::string(key) + "\" must be a whole number >= 0, not " + shown(*v));
  out = *n;
  return true;
}

bool non_negative(const Value& v, double& out) {
  auto n = v.as_number();
  if (!n || *n < 0) return false;
  out = *n;
  return true;
}

bool get_ms(const Value& o, std::string_view key, double& out, std::string& why) {
  const Value* v = o.find(key);
  if (!v) return fail(why, "\"" + std::string(key) + "\" is missing");
  if (!non_negative(*v, out))
    return fail(why, "\"" + std::string(key) + "\" must be a number of milliseconds >= 0, not " + shown(*v));
  return true;
}

bool get_array(const Value& o, std::string_view key, const Value*& out, std::string& why) {
  out = o.find(key);
  if (!out) return fail(why, "\"" + std::string(key) + "\" is missing");
  if (out->kind != Kind::Array) return fail(why, "\"" + std::string(key) + "\" must be an array, not " + shown(*out));
  return true;
}

bool parse_fingerprint(const std::string& hex, uint64_t& fp) {
  if (hex.size() != 16) return false;
  fp = 0;
  for (char c : hex) {
    fp <<= 4;
    if (c >= '0' && c <= '9') fp |= uint64_t(c - '0');
    else if (c >= 'a' && c <= 'f') fp |= uint64_t(c - 'a' + 10);
    else return false;
  }
  return true;
}

// "2026-12-04T18:41:00.456Z" -> "2026-12-04 18:41:00.456 UTC", the way log timestamps read, so
// the report's time span compares and prints alike whatever the inputs; anything else as it is.
std::string readable_time(const std::string& t) {
  if (t.size() < 20 || t[10] != 'T' || t.back() != 'Z') return t;
  std::string out = t.substr(0, t.size() - 1);
  out[10] = ' ';
  return out + " UTC";
}

bool read_header(const Value& h, CaptureHeader& out, std::string& why) {
  if (h.kind != Kind::Object) return fail(why, "not a pgopt capture file: line 1 is " + shown(h) + ", not a JSON object");
  const Value* format = h.find("format");
  if (!format || format->kind != Kind::String || format->text != kFormat)
    return fail(why, "not a pgopt capture file: the first line has no \"format\":\"pgopt-capture\"" +
                 (format ? " (it has " + shown(*format) + ")" : std::string()));
  const Value* version = h.find("version");
  if (!version) return fail(why, "the header has no \"version\"");
  auto v = version->as_count();
  if (!v || *v != kVersion)
    return fail(why, "capture format version " + shown(*version) + " is not supported: this pgopt reads version " +
                 std::to_string(kVersion) + " (docs/capture_format.md)");
  if (get_string(h, "pgopt", out.pgopt, why) && get_string(h, "started_at", out.started_at, why) &&
      get_string(h, "written_at", out.written_at, why) && get_count(h, "statements", out.statements, why) &&
      get_count(h, "fingerprints", out.fingerprints, why) && get_count(h, "dropped_calls", out.dropped_calls, why))
    return true;
  return fail(why, "header: " + why);
}

struct Entry {
  std::string database, dbname;
  QueryGroup group;
};

bool read_entry(const Value& e, const InputOptions& options, Entry& out, std::string& why) {
  if (e.kind != Kind::Object) return fail(why, "an entry must be a JSON object, not " + shown(e));
  QueryGroup& g = out.group;
  std::string fingerprint;
  uint64_t errors = 0, primary = 0, replica = 0;
  double p95 = 0;
  const Value *durations = nullptr, *samples = nullptr;
  if (!get_string(e, "database", out.database, why) || !get_string(e, "dbname", out.dbname, why) ||
      !get_string(e, "fingerprint", fingerprint, why) || !get_string(e, "query", g.normalized, why) ||
      !get_count(e, "calls", g.calls, why) || !get_count(e, "errors", errors, why) ||
      !get_count(e, "rows", g.rows, why) || !get_ms(e, "total_ms", g.total_ms, why) ||
      !get_ms(e, "max_ms", g.max_ms, why) || !get_ms(e, "p95_ms", p95, why) ||
      !get_array(e, "durations_ms", durations, why) || !get_count(e, "primary_calls", primary, why) ||
      !get_count(e, "replica_calls", replica, why) || !get_array(e, "samples", samples, why))
    return false;
  if (!parse_fingerprint(fingerprint, g.fingerprint))
    return fail(why, "\"fingerprint\" must be 16 lowercase hex digits, not " + quoted(fingerprint));
  if (g.normalized.empty()) return fail(why, "\"query\" is empty");
  // Optional: written only when the pooler's result cache answered the statement.
  if (e.find("cache_hits") && !get_count(e, "cache_hits", g.cache_hits, why)) return false;
  for (size_t i = 0; i < durations->items.size(); ++i) {
    double ms = 0;
    if (!non_negative(durations->items[i], ms))
      return fail(why, "\"durations_ms\"[" + std::to_string(i) + "] must be a number >= 0, not " + shown(durations->items[i]));
    if (g.duration_reservoir.size() < options.duration_samples) g.duration_reservoir.push_back(ms);
  }
  for (size_t i = 0; i < samples->items.size(); ++i) {
    const Value& s = samples->items[i];
    if (s.kind != Kind::String)
      return fail(why, "\"samples\"[" + std::to_string(i) + "] must be a string, not " + shown(s));
    if (g.samples.size() < options.samples_per_group) g.samples.push_back(s.text);
  }
  // The pooler timed every execution it counted.
  g.timed_calls = g.calls;
  g.sample_seen = g.calls;
  g.has_literal_samples = !g.samples.empty();
  g.from_pg_stat_statements = false;
  return true;
}

// Two entries of one fingerprint (two pooler databases on the same server database, or several
// databases when none is chosen): different executions, so they add up.
void add_entry(QueryGroup& a, const QueryGroup& b, const InputOptions& o) {
  input::bottom_k_merge(a.duration_reservoir, a.duration_keys, b.duration_reservoir, b.duration_keys,
                        o.duration_samples, input::mix64(o.seed ^ a.fingerprint ^ 0xd0));
  input::bottom_k_merge(a.samples, a.sample_keys, b.samples, b.sample_keys, o.samples_per_group,
                        input::mix64(o.seed ^ a.fingerprint ^ 0x5a));
  a.calls += b.calls;
  a.cache_hits += b.cache_hits;
  a.timed_calls += b.timed_calls;
  a.total_ms += b.total_ms;
  a.max_ms = std::max(a.max_ms, b.max_ms);
  a.sample_seen += b.sample_seen;
  a.rows += b.rows;
  a.has_literal_samples = a.has_literal_samples || b.has_literal_samples;
}

std::string list_names(const std::set<std::string>& names) {
  std::string out;
  size_t n = 0;
  for (const auto& s : names) {
    if (n == 5) return out + ", ...";
    out += (n++ ? ", " : "") + quoted(s);
  }
  return out;
}

bool read_file(const std::string& path, std::string& data, std::string& error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return error = path + ": cannot open: " + std::strerror(errno), false;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = path + ": cannot read: " + std::strerror(errno);
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    data.append(buf, size_t(n));
  }
  ::close(fd);
  return true;
}

}  // namespace

CaptureRead read_capture_buffer(std::string_view data, const std::string& name,
                                const std::optional<std::string>& dbname, const InputOptions& options) {
  CaptureRead out;
  auto& errors = out.result.errors;
  size_t line_errors = 0;
  auto error_at = [&](uint64_t line, const std::string& what) {
    if (++line_errors <= kMaxLineErrors) errors.push_back(name + ":" + std::to_string(line) + ": " + what);
  };
  if (data.empty()) {
    error_at(1, "empty file: not a pgopt capture (no header line)");
    return out;
  }
  Workload& w = out.result.workload;
  std::set<std::string> other_dbnames;
  uint64_t lineno = 0;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t nl = data.find('\n', pos);
    std::string_view line = data.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? data.size() : nl + 1;
    ++lineno;
    input::json::ParseResult parsed = input::json::parse_line(line);
    std::string why;
    if (lineno == 1) {
      if (!parsed.value) {
        error_at(1, "not a pgopt capture file: the first line is not JSON (" + parsed.error + ")");
        return out;
      }
      if (!read_header(*parsed.value, out.header, why)) {
        error_at(1, why);
        return out;
      }
      continue;
    }
    if (!parsed.value) {
      error_at(lineno, "not valid JSON: " + parsed.error);
      continue;
    }
    Entry e;
    if (!read_entry(*parsed.value, options, e, why)) {
      error_at(lineno, why);
      continue;
    }
    ++out.entries;
    if (dbname && e.dbname != *dbname) {
      ++out.other_entries;
      other_dbnames.insert(e.dbname);
      continue;
    }
    w.statements += e.group.calls;
    if (e.group.calls == 0) continue;  // every execution a cache hit: nothing ran for an index to help
    auto [it, fresh] = w.groups.try_emplace(e.group.fingerprint, e.group);
    if (!fresh) add_entry(it->second, e.group, options);
  }
  if (line_errors > kMaxLineErrors)
    errors.push_back(name + ": " + std::to_string(line_errors - kMaxLineErrors) + " more malformed lines");
  if (line_errors == 0 && out.entries != out.header.fingerprints)
    error_at(lineno + 1, "the header announces " + std::to_string(out.header.fingerprints) + " entries but " +
                             std::to_string(out.entries) + " follow (file cut short or edited?)");
  if (!errors.empty()) {
    out.result.workload = Workload{};
    return out;
  }

  w.entries = out.entries;
  w.bytes = data.size();
  w.sources.push_back(name);
  w.first_timestamp = readable_time(out.header.started_at);
  w.last_timestamp = readable_time(out.header.written_at);
  std::string note = "capture " + name + ": written by pgopt " + out.header.pgopt + " at " + out.header.written_at +
                     " (capturing since " + out.header.started_at + "), " + std::to_string(out.entries) +
                     " entries, " + std::to_string(out.header.statements) + " statements";
  if (dbname)
    note += "; kept the " + std::to_string(out.entries - out.other_entries) + " entries of dbname " + quoted(*dbname) +
            (out.other_entries ? ", left out " + std::to_string(out.other_entries) + " of other databases (" +
                                     list_names(other_dbnames) + ")"
                               : std::string());
  if (out.header.dropped_calls)
    note += "; " + std::to_string(out.header.dropped_calls) +
            " statements were counted but not kept by the pooler (capture_max_queries fingerprints were already "
            "held): raise capture_max_queries to see them";
  w.notes.push_back(note);
  bool any_samples = std::any_of(w.groups.begin(), w.groups.end(), [](const auto& kv) { return !kv.second.samples.empty(); });
  if (!w.groups.empty() && !any_samples)
    w.notes.push_back("capture " + name +
                      ": no literal samples (capture_samples = false, or only extended-protocol statements), so "
                      "statements are explained as generic plans and no partial index can be judged");
  return out;
}

CaptureRead read_capture(const std::string& path, const std::optional<std::string>& dbname,
                         const InputOptions& options) {
  std::string data, error;
  if (!read_file(path, data, error)) {
    CaptureRead out;
    out.result.errors.push_back(error);
    return out;
  }
  return read_capture_buffer(data, path, dbname, options);
}

InputResult read_captures(const std::vector<std::string>& paths, const std::optional<std::string>& dbname,
                          const InputOptions& options) {
  InputResult out;
  std::vector<CaptureRead> reads;
  for (const auto& p : paths) {
    reads.push_back(read_capture(p, dbname, options));
    for (auto& e : reads.back().result.errors) out.errors.push_back(std::move(e));
  }
  if (!out.errors.empty()) return out;
  // One pooler run: the file written last holds everything the earlier ones did.
  std::map<std::string, size_t> latest;  // started_at + pgopt -> index in reads
  for (size_t i = 0; i < reads.size(); ++i) {
    std::string run = reads[i].header.started_at + " " + reads[i].header.pgopt;
    auto [it, fresh] = latest.try_emplace(run, i);
    if (!fresh && reads[i].header.written_at > reads[it->second].header.written_at) it->second = i;
  }
  bool first = true;
  for (size_t i = 0; i < reads.size(); ++i) {
    const CaptureHeader& h = reads[i].header;
    size_t keep = latest.at(h.started_at + " " + h.pgopt);
    if (keep != i) {
      out.workload.notes.push_back("capture " + paths[i] + ": left out, superseded by " + paths[keep] +
                                   " (the same pooler run, since " + h.started_at + ", written at " +
                                   reads[keep].header.written_at + ")");
      continue;
    }
    if (first) {
      std::vector<std::string> notes = std::move(out.workload.notes);
      out.workload = std::move(reads[i].result.workload);
      out.workload.notes.insert(out.workload.notes.begin(), notes.begin(), notes.end());
      first = false;
    } else {
      merge(out.workload, reads[i].result.workload, options);  // different poolers: they add up
    }
  }
  return out;
}

void merge_capture(Workload& into, const Workload& capture, const InputOptions& options) {
  uint64_t combined = 0, overlap_calls = 0;
  for (const auto& [fp, c] : capture.groups) {
    auto [it, fresh] = into.groups.try_emplace(fp, c);
    if (fresh) continue;
    QueryGroup& a = it->second;
    ++combined;
    overlap_calls += std::min(a.calls, c.calls);
    QueryGroup out = a;
    const bool capture_counts = c.calls > a.calls;
    const QueryGroup& counts = capture_counts ? c : a;
    out.calls = counts.calls;
    out.total_ms = counts.total_ms;
    out.timed_calls = counts.timed_calls;
    out.max_ms = std::max(a.max_ms, c.max_ms);
    // Single durations go with the totals, so p95 and the mean describe the same calls
    // (pg_stat_statements has none: then the other source's).
    const QueryGroup& durations = !counts.duration_reservoir.empty() ? counts : (capture_counts ? a : c);
    out.duration_reservoir = durations.duration_reservoir;
    out.duration_keys = durations.duration_keys;
    input::bottom_k_merge(out.samples, out.sample_keys, c.samples, c.sample_keys, options.samples_per_group,
                          input::mix64(options.seed ^ fp ^ 0xc5));
    out.sample_seen = a.sample_seen + c.sample_seen;
    if (!a.from_pg_stat_statements) out.rows = c.rows;  // logs have no row counts
    out.has_literal_samples = a.has_literal_samples || c.has_literal_samples;
    if (out.normalized.empty()) out.normalized = c.normalized;
    a = std::move(out);
  }
  into.statements += capture.statements - std::min(capture.statements, overlap_calls);
  into.parse_failures += capture.parse_failures;
  into.bytes += capture.bytes;
  into.entries += capture.entries;
  if (capture.first_timestamp && (!into.first_timestamp || *capture.first_timestamp < *into.first_timestamp))
    into.first_timestamp = capture.first_timestamp;
  if (capture.last_timestamp && (!into.last_timestamp || *capture.last_timestamp > *into.last_timestamp))
    into.last_timestamp = capture.last_timestamp;
  into.sources.insert(into.sources.end(), capture.sources.begin(), capture.sources.end());
  into.notes.insert(into.notes.end(), capture.notes.begin(), capture.notes.end());
  if (combined)
    into.notes.push_back("capture: " + std::to_string(combined) +
                         " fingerprints also read from the logs or pg_stat_statements were combined, not added (the "
                         "pooler relayed the same executions): counts and times from the source that saw more calls");
}

}  // namespace pgopt::analyzer
