// Detects the log format (stderr, csvlog, jsonlog) and, for stderr, the log_line_prefix in use.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "analyzer/input/log_prefix.hpp"

namespace pgopt::analyzer::input {

enum class LogFormat { stderr_log, csvlog, jsonlog };
const char* format_name(LogFormat f);

struct Detection {
  LogFormat format = LogFormat::stderr_log;
  LogLinePrefix prefix = LogLinePrefix::generic();  // stderr only
  std::string description;  // for the report: what was found and how sure we are
  std::string error;        // a bad --log-format value
};

// `head` is the first bytes of the (decompressed) stream. `format` and `prefix` are the user's
// choices: "auto" / empty mean detect.
Detection detect_format(std::string_view head, const std::string& format, const std::string& prefix);

// The log_line_prefix settings tried first (PostgreSQL's and Debian's defaults, pgBadger's advice,
// common managed services).
const std::vector<std::string>& common_prefixes();
// Builds a log_line_prefix from sample lines when none of the common ones fits (empty if it fails).
std::string infer_prefix(const std::vector<std::string_view>& lines);

// True when `line` looks like the first line of a PostgreSQL csvlog record.
bool looks_like_csv_record(std::string_view line);

}  // namespace pgopt::analyzer::input
