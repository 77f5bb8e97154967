// bench_log_reader: runs only the analyzer's input side (read_logs) and prints a summary; used by
// bench/analyze_speed.sh to time log reading apart from the advisor.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "analyzer/input.hpp"
#include "sql/parser.hpp"

using pgopt::analyzer::InputOptions;

int main(int argc, char** argv) {
  InputOptions o;
  std::vector<std::string> inputs;
  int top = 5;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name) -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_log_reader: %s needs a value\n", name);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--jobs" || a == "-j") o.jobs = std::atoi(value("--jobs").c_str());
    else if (a == "--log-format") o.log_format = value("--log-format");
    else if (a == "--log-line-prefix") o.log_line_prefix = value("--log-line-prefix");
    else if (a == "--top") top = std::atoi(value("--top").c_str());
    else if (a == "--progress") o.progress = true;
    else if (a == "--help" || a == "-h") {
      std::printf("usage: bench_log_reader [--jobs N] [--log-format F] [--log-line-prefix P] [--top N] FILE...\n");
      return 0;
    } else inputs.push_back(a);
  }
  auto t0 = std::chrono::steady_clock::now();
  auto r = pgopt::analyzer::read_logs(inputs, o);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const auto& e : r.errors) std::fprintf(stderr, "error: %s\n", e.c_str());
  const auto& w = r.workload;
  for (const auto& n : w.notes) std::printf("note: %s\n", n.c_str());
  std::printf("bytes: %llu\nseconds: %.3f\nMB/s: %.1f\nentries: %llu\nstatements: %llu\nfingerprints: %zu\n"
              "parse_failures: %llu\nunparsable_lines: %llu\n",
              (unsigned long long)w.bytes, secs, secs > 0 ? double(w.bytes) / 1e6 / secs : 0.0,
              (unsigned long long)w.entries, (unsigned long long)w.statements, w.groups.size(),
              (unsigned long long)w.parse_failures, (unsigned long long)w.unparsable_lines);
  std::vector<const pgopt::analyzer::QueryGroup*> groups;
  for (const auto& [fp, g] : w.groups) groups.push_back(&g);
  std::sort(groups.begin(), groups.end(), [](auto* a, auto* b) { return a->total_ms > b->total_ms; });
  for (int i = 0; i < top && i < int(groups.size()); ++i) {
    const auto* g = groups[size_t(i)];
    std::printf("%s calls=%llu total_ms=%.1f p95_ms=%.3f  %.80s\n", pgopt::sql::fingerprint_hex(g->fingerprint).c_str(),
                (unsigned long long)g->calls, g->total_ms, g->p95_ms(), g->normalized.c_str());
  }
  return r.errors.empty() ? 0 : 1;
}
