// The Prometheus text exposition format (version 0.0.4): HELP/TYPE lines, samples with escaped
// label values, histograms in seconds. Socket-free.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pooler/metrics/histogram.hpp"

namespace pgopt::pooler::metrics {

inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

using Labels = std::vector<std::pair<std::string_view, std::string>>;

// Label values: backslash, double quote and newline escaped. HELP text: backslash and newline.
std::string escape_label_value(std::string_view v);
std::string escape_help(std::string_view v);
// Shortest text that reads back as the same double; NaN and +Inf/-Inf as Prometheus spells them.
std::string format_value(double v);

class Exposition {
 public:
  enum class Type { Counter, Gauge, Histogram };
  // Starts a metric family; a counter's name must end in `_total` (checked: a wrong name throws
  // std::invalid_argument, a programming error caught by the unit tests).
  void family(std::string_view name, Type type, std::string_view help);
  void sample(std::string_view name, const Labels& labels, double value);
  void sample(std::string_view name, const Labels& labels, uint64_t value);
  // `name`_bucket{...,le="..."} (cumulative, seconds), `name`_sum (seconds) and `name`_count.
  void histogram(std::string_view name, const Labels& labels, const HistogramData& h);
  const std::string& text() const { return out_; }

 private:
  void series(std::string_view name, std::string_view suffix, const Labels& labels, std::string_view extra_label,
              std::string_view extra_value);
  std::string out_;
};

}  // namespace pgopt::pooler::metrics
