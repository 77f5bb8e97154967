// Shared helpers for the input tests: a canonical JSON dump of a Workload (the golden format) and
// an exact comparison used by the --jobs equivalence tests.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include "analyzer/workload.hpp"
#include "sql/parser.hpp"

namespace pgopt::analyzer::input_testing {

inline std::string json_escape(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20) out += fmt::format("\\u{:04x}", c);
        else out += char(c);
    }
  }
  return out + "\"";
}

// `strip` is removed from the start of notes (the fixture directory), so goldens do not depend on
// where the tree is checked out.
inline std::string dump(const Workload& w, const std::vector<std::string>& errors, const std::string& strip = "") {
  auto unprefix = [&](std::string s) {
    for (size_t p; !strip.empty() && (p = s.find(strip)) != std::string::npos;) s.erase(p, strip.size());
    return s;
  };
  std::string o = "{\n";
  o += "  \"errors\": [";
  for (size_t i = 0; i < errors.size(); ++i) o += (i ? ", " : "") + json_escape(unprefix(errors[i]));
  o += "],\n  \"notes\": [";
  for (size_t i = 0; i < w.notes.size(); ++i) o += (i ? ",\n    " : "\n    ") + json_escape(unprefix(w.notes[i]));
  o += w.notes.empty() ? "],\n" : "\n  ],\n";
  o += fmt::format("  \"statements\": {},\n  \"parse_failures\": {},\n  \"unparsable_lines\": {},\n"
                   "  \"entries\": {},\n  \"bytes\": {},\n",
                   w.statements, w.parse_failures, w.unparsable_lines, w.entries, w.bytes);
  o += "  \"first_timestamp\": " + (w.first_timestamp ? json_escape(*w.first_timestamp) : "null") + ",\n";
  o += "  \"last_timestamp\": " + (w.last_timestamp ? json_escape(*w.last_timestamp) : "null") + ",\n";
  o += "  \"groups\": [";
  bool first = true;
  for (const auto& [fp, g] : w.groups) {  // std::map: ordered by fingerprint
    o += first ? "\n" : ",\n";
    first = false;
    o += "    {\"fingerprint\": \"" + sql::fingerprint_hex(fp) + "\",\n";
    o += "     \"normalized\": " + json_escape(g.normalized) + ",\n";
    o += fmt::format("     \"calls\": {}, \"timed_calls\": {}, \"total_ms\": {:.3f}, \"max_ms\": {:.3f}, "
                     "\"p95_ms\": {:.3f},\n",
                     g.calls, g.timed_calls, g.total_ms, g.max_ms, g.p95_ms());
    o += fmt::format("     \"sample_seen\": {}, \"sample_count\": {}, \"samples\": [", g.sample_seen, g.samples.size());
    for (size_t i = 0; i < g.samples.size(); ++i) o += (i ? ",\n       " : "\n       ") + json_escape(g.samples[i]);
    o += g.samples.empty() ? "]}" : "]}";
  }
  o += w.groups.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return o;
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline void write_file(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << data;
}

// Exact equality, except for floating sums whose addition order depends on how the log was split.
inline std::string diff_workloads(const Workload& a, const Workload& b) {
  auto near = [](double x, double y) { return std::abs(x - y) <= 1e-9 * std::max({1.0, std::abs(x), std::abs(y)}); };
  if (a.statements != b.statements) return fmt::format("statements {} vs {}", a.statements, b.statements);
  if (a.parse_failures != b.parse_failures) return fmt::format("parse_failures {} vs {}", a.parse_failures, b.parse_failures);
  if (a.unparsable_lines != b.unparsable_lines)
    return fmt::format("unparsable_lines {} vs {}", a.unparsable_lines, b.unparsable_lines);
  if (a.entries != b.entries) return fmt::format("entries {} vs {}", a.entries, b.entries);
  if (a.bytes != b.bytes) return fmt::format("bytes {} vs {}", a.bytes, b.bytes);
  if (a.first_timestamp != b.first_timestamp || a.last_timestamp != b.last_timestamp) return "timestamps differ";
  if (a.groups.size() != b.groups.size()) return fmt::format("groups {} vs {}", a.groups.size(), b.groups.size());
  for (auto ia = a.groups.begin(), ib = b.groups.begin(); ia != a.groups.end(); ++ia, ++ib) {
    const QueryGroup& x = ia->second;
    const QueryGroup& y = ib->second;
    std::string id = sql::fingerprint_hex(ia->first);
    if (ia->first != ib->first) return "fingerprints differ at " + id;
    if (x.normalized != y.normalized) return id + ": normalized differs";
    if (x.calls != y.calls || x.timed_calls != y.timed_calls)
      return fmt::format("{}: calls {}/{} vs {}/{}", id, x.calls, x.timed_calls, y.calls, y.timed_calls);
    if (!near(x.total_ms, y.total_ms) || x.max_ms != y.max_ms)
      return fmt::format("{}: total/max {}/{} vs {}/{}", id, x.total_ms, x.max_ms, y.total_ms, y.max_ms);
    if (x.duration_reservoir != y.duration_reservoir || x.duration_keys != y.duration_keys)
      return id + ": duration reservoir differs";
    if (x.samples != y.samples || x.sample_keys != y.sample_keys || x.sample_seen != y.sample_seen)
      return id + ": samples differ";
  }
  return {};
}

}  // namespace pgopt::analyzer::input_testing
