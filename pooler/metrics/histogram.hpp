// Latency histograms with fixed log-scale buckets: bucketing, merging and quantiles, socket-free.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace pgopt::pooler::metrics {

// Upper bounds in microseconds, 0.1 ms to 10 s in 1-2.5-5 steps (Prometheus' own default style):
// fixed, so every worker's histograms add up bucket by bucket and `le` labels never change.
inline constexpr std::array<uint64_t, 16> kBoundsUs = {100,    250,    500,     1000,    2500,    5000,
                                                        10000,  25000,  50000,   100000,  250000,  500000,
                                                        1000000, 2500000, 5000000, 10000000};
inline constexpr size_t kBuckets = kBoundsUs.size() + 1;  // the last one is +Inf

// The bucket a duration falls in: the first whose bound is >= us (Prometheus `le` semantics).
constexpr size_t bucket_of(uint64_t us) {
  size_t i = 0;
  while (i < kBoundsUs.size() && us > kBoundsUs[i]) ++i;
  return i;
}

// A histogram's contents at one moment: plain numbers, merged across workers.
struct HistogramData {
  std::array<uint64_t, kBuckets> counts{};  // per bucket, not cumulative
  uint64_t sum_us = 0;

  uint64_t count() const;
  void record(uint64_t us) {
    ++counts[bucket_of(us)];
    sum_us += us;
  }
  HistogramData& operator+=(const HistogramData& o);
  // The q-quantile (0..1) in microseconds, interpolated linearly inside its bucket as Prometheus'
  // histogram_quantile() does; in the +Inf bucket, the highest finite bound. 0 when empty.
  double quantile(double q) const;
};

}  // namespace pgopt::pooler::metrics
