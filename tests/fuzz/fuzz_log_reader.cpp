// libFuzzer target for the log readers: any bytes, any of the three formats, compressed or not.
// Besides "no crash, no leak", it checks the --jobs invariant: reading the input split into byte
// ranges (borders chosen by the fuzzer) gives exactly the workload of one sequential read.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "analyzer/input.hpp"
#include "analyzer/input/log_input.hpp"
#include "tests/unit/analyzer/input_test_util.hpp"

using namespace pgopt::analyzer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  // Byte 0: format and prefix; bytes 1-2: where to split; the rest: the log.
  static const char* kFormats[] = {"auto", "stderr", "csvlog", "jsonlog"};
  static const char* kPrefixes[] = {"", "%m [%p] %q%u@%d ", "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
                                    "%-10u%5p %c %a|%i|%b %q%x "};
  InputOptions o;
  o.log_format = kFormats[data[0] & 3];
  o.log_line_prefix = kPrefixes[(data[0] >> 2) & 3];
  o.samples_per_group = 1u << 20;  // nothing dropped: a split read must then be identical
  o.duration_samples = 1u << 20;
  std::string_view log(reinterpret_cast<const char*>(data) + 3, size - 3);

  InputResult one = input::read_buffer_with_borders(log, o, {});
  if (!log.empty()) {
    uint64_t first = (uint64_t(data[1]) * log.size()) / 256;
    uint64_t step = 1 + data[2] % 64;
    std::vector<uint64_t> borders;
    for (uint64_t b = first; b < log.size() && borders.size() < 64; b += step) borders.push_back(b);
    InputResult split = input::read_buffer_with_borders(log, o, borders);
    std::string diff = input_testing::diff_workloads(one.workload, split.workload);
    if (!diff.empty() && one.errors.empty()) {
      std::fprintf(stderr, "split read differs: %s\n", diff.c_str());
      std::abort();
    }
  }
  // The public entry point, with real worker threads.
  o.jobs = 2;
  InputResult two = read_log_buffer(log, o);
  (void)two;
  for (const auto& [fp, g] : one.workload.groups) {
    if (g.calls < g.timed_calls || g.samples.size() > g.sample_seen) std::abort();
    (void)g.p95_ms();
  }
  return 0;
}
