// Latency histograms with fixed log-scale buckets: merging and quantiles.
#include "pooler/metrics/histogram.hpp"

#include <algorithm>

namespace pgopt::pooler::metrics {

uint64_t HistogramData::count() const {
  uint64_t n = 0;
  for (uint64_t c : counts) n += c;
  return n;
}

HistogramData& HistogramData::operator+=(const HistogramData& o) {
  for (size_t i = 0; i < kBuckets; ++i) counts[i] += o.counts[i];
  sum_us += o.sum_us;
  return *this;
}

double HistogramData::quantile(double q) const {
  const uint64_t total = count();
  if (total == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const double rank = q * double(total);
  uint64_t below = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    const uint64_t here = counts[i];
    if (here > 0 && double(below + here) >= rank) {
      if (i == kBoundsUs.size()) return double(kBoundsUs.back());
      const double lower = i == 0 ? 0.0 : double(kBoundsUs[i - 1]);
      const double upper = double(kBoundsUs[i]);
      return lower + (upper - lower) * (rank - double(below)) / double(here);
    }
    below += here;
  }
  return double(kBoundsUs.back());
}

}  // namespace pgopt::pooler::metrics
