// Internal to pooler/config: collects `file:line: message` errors and reads typed TOML values.
#pragma once

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <climits>
#include <string>
#include <string_view>
#include <vector>

#include "pooler/config/config.hpp"
#include "pooler/config/suggest.hpp"
#include "pooler/config/toml_text.hpp"
#include "pooler/config/units.hpp"

namespace pgopt::pooler::config_detail {

template <class E>
struct EnumName {
  std::string_view name;
  E value;
};

inline std::string_view type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

inline int line_of(const toml::source_region& r) { return static_cast<int>(r.begin.line); }

// Collects errors and converts TOML values; each read_* reports its own error and returns false.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  void error(int line, std::string message) {
    errors_.push_back({file_, line, std::move(message)});
  }

  std::vector<ConfigError> take_errors() {
    // Line order reads like the file; whole-file errors (line 0) make sense last.
    auto rank = [](const ConfigError& e) { return e.line == 0 ? INT_MAX : e.line; };
    std::stable_sort(errors_.begin(), errors_.end(),
                     [&](const ConfigError& a, const ConfigError& b) { return rank(a) < rank(b); });
    return std::move(errors_);
  }

  void wrong_type(const toml::node& n, const std::string& key, std::string_view expected) {
    error(line_of(n.source()), fmt::format("{}: expected {}, got {}", key, expected, type_name(n)));
  }

  bool read_int(const toml::node& n, const std::string& key, int64_t lo, int64_t hi, int& out) {
    const auto* v = n.as_integer();
    if (v == nullptr) {
      wrong_type(n, key, "an integer");
      return false;
    }
    const int64_t x = v->get();
    if (x < lo || x > hi) {
      const std::string range = hi == INT_MAX ? fmt::format("must be >= {}", lo)
                                              : fmt::format("must be between {} and {}", lo, hi);
      error(line_of(n.source()), fmt::format("{}: {} is out of range ({})", key, x, range));
      return false;
    }
    out = static_cast<int>(x);
    return true;
  }

  bool read_string(const toml::node& n, const std::string& key, bool allow_empty,
                   std::string& out) {
    const auto* v = n.as_string();
    if (v == nullptr) {
      wrong_type(n, key, "a string");
      return false;
    }
    if (!allow_empty && v->get().empty()) {
      error(line_of(n.source()),
            fmt::format("{}: must not be empty (remove the key to use the default)", key));
      return false;
    }
    out = v->get();
    return true;
  }

  bool read_duration(const toml::node& n, const std::string& key, Millis& out) {
    UnitResult<Millis> r;
    if (const auto* i = n.as_integer()) {
      r = duration_from_seconds(i->get());
    } else if (const auto* f = n.as_floating_point()) {
      r = duration_from_seconds(f->get());
    } else if (const auto* s = n.as_string()) {
      r = parse_duration(s->get());
    } else {
      wrong_type(n, key, "a duration (seconds as a number, or a string such as \"30s\")");
      return false;
    }
    if (!r.value) {
      error(line_of(n.source()), fmt::format("{}: {}", key, r.error));
      return false;
    }
    out = *r.value;
    return true;
  }

  bool read_size(const toml::node& n, const std::string& key, uint64_t lo, uint64_t hi,
                 uint32_t& out) {
    UnitResult<uint64_t> r;
    std::string shown;
    if (const auto* i = n.as_integer()) {
      shown = fmt::format("{} bytes", i->get());
      if (i->get() < 0) {
        r.error = fmt::format("{} is negative; a size must be >= 0", i->get());
      } else {
        r.value = static_cast<uint64_t>(i->get());
      }
    } else if (const auto* s = n.as_string()) {
      shown = fmt::format("\"{}\"", s->get());
      r = parse_size(s->get());
    } else {
      wrong_type(n, key, "a size (bytes as an integer, or a string such as \"64MB\")");
      return false;
    }
    if (!r.value) {
      error(line_of(n.source()), fmt::format("{}: {}", key, r.error));
      return false;
    }
    if (*r.value < lo || *r.value > hi) {
      error(line_of(n.source()), fmt::format("{}: {} is out of range (must be between {} and {})",
                                             key, shown, format_size(lo), format_size(hi)));
      return false;
    }
    out = static_cast<uint32_t>(*r.value);
    return true;
  }

  template <class E, size_t N>
  bool read_enum(const toml::node& n, const std::string& key,
                 const std::array<EnumName<E>, N>& names, E& out) {
    const auto* v = n.as_string();
    std::array<std::string_view, N> allowed;
    for (size_t i = 0; i < N; ++i) allowed[i] = names[i].name;
    const std::string list = fmt::format("\"{}\"", fmt::join(allowed, "\", \""));
    if (v == nullptr) {
      wrong_type(n, key, fmt::format("a string (one of {})", list));
      return false;
    }
    for (const auto& e : names) {
      if (e.name == v->get()) {
        out = e.value;
        return true;
      }
    }
    std::string msg = fmt::format("{}: {} is not one of {}", key, toml_quote(v->get()), list);
    if (auto near = closest_match(v->get(), allowed))
      msg += fmt::format("; did you mean \"{}\"?", *near);
    error(line_of(n.source()), std::move(msg));
    return false;
  }

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
};

}  // namespace pgopt::pooler::config_detail
