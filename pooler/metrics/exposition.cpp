// The Prometheus text exposition format (version 0.0.4).
#include "pooler/metrics/exposition.hpp"

#include <fmt/format.h>

#include <cmath>
#include <iterator>
#include <stdexcept>

namespace pgopt::pooler::metrics {

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

void Exposition::family(std::string_view name, Type type, std::string_view help) {
  if (type == Type::Counter && (name.size() < 6 || name.substr(name.size() - 6) != "_total"))
    throw std::invalid_argument("a counter's name ends in _total: " + std::string(name));
  if (type != Type::Counter && name.size() >= 6 && name.substr(name.size() - 6) == "_total")
    throw std::invalid_argument("only counters end in _total: " + std::string(name));
  const char* t = type == Type::Counter ? "counter" : type == Type::Gauge ? "gauge" : "histogram";
  fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, escape_help(help), name, t);
}

void Exposition::series(std::string_view name, std::string_view suffix, const Labels& labels,
                        std::string_view extra_label, std::string_view extra_value) {
  out_ += name;
  out_ += suffix;
  if (labels.empty() && extra_label.empty()) return;
  out_ += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out_ += ',';
    first = false;
    fmt::format_to(std::back_inserter(out_), "{}=\"{}\"", k, escape_label_value(v));
  }
  if (!extra_label.empty()) fmt::format_to(std::back_inserter(out_), "{}{}=\"{}\"", first ? "" : ",", extra_label, extra_value);
  out_ += '}';
}

void Exposition::sample(std::string_view name, const Labels& labels, double value) {
  series(name, "", labels, {}, {});
  out_ += ' ';
  out_ += format_value(value);
  out_ += '\n';
}

void Exposition::sample(std::string_view name, const Labels& labels, uint64_t value) {
  series(name, "", labels, {}, {});
  fmt::format_to(std::back_inserter(out_), " {}\n", value);
}

void Exposition::histogram(std::string_view name, const Labels& labels, const HistogramData& h) {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    cumulative += h.counts[i];
    const std::string le = i < kBoundsUs.size() ? format_value(double(kBoundsUs[i]) / 1e6) : "+Inf";
    series(name, "_bucket", labels, "le", le);
    fmt::format_to(std::back_inserter(out_), " {}\n", cumulative);
  }
  series(name, "_sum", labels, {}, {});
  out_ += ' ';
  out_ += format_value(double(h.sum_us) / 1e6);
  out_ += '\n';
  series(name, "_count", labels, {}, {});
  fmt::format_to(std::back_inserter(out_), " {}\n", cumulative);
}

}  // namespace pgopt::pooler::metrics
