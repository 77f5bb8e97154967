// Internal entry points of the log reading pipeline (tests use them to force chunk borders).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "analyzer/input.hpp"

namespace pgopt::analyzer::input {

// Reads `data` as if it were a plain file split into byte ranges at `borders` (each job starts at
// the first entry after its border and finishes the entry straddling the next one), then merges.
InputResult read_buffer_with_borders(std::string_view data, const InputOptions& options,
                                     const std::vector<uint64_t>& borders, const std::string& name = "<memory>");

// The smallest byte range worth a job of its own.
inline constexpr uint64_t kMinRangeBytes = 64 * 1024;

}  // namespace pgopt::analyzer::input
