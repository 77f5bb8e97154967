// The three log formats' entry scanners: stderr (any log_line_prefix), csvlog and jsonlog.
#pragma once

#include <cstdint>
#include <limits>

#include "analyzer/input/log_prefix.hpp"
#include "analyzer/input/stream_window.hpp"
#include "analyzer/input/workload_builder.hpp"

namespace pgopt::analyzer::input {

// A byte range of one stream. A reader handles exactly the entries that START in [start, end): when
// start > 0 the window must begin at start - 1 (to see whether start begins a line) and the reader
// skips to the first entry start; it reads past `end` to finish the entry that straddles it.
struct UnitBounds {
  uint64_t start = 0;
  uint64_t end = std::numeric_limits<uint64_t>::max();
};

struct ReadStats {
  bool truncated_tail = false;  // the stream ended inside an entry (no final newline)
  uint64_t oversized = 0;       // entries dropped for exceeding the window's bound
};

ReadStats read_stderr(StreamWindow& w, const UnitBounds& u, const LogLinePrefix& prefix, WorkloadBuilder& b);
ReadStats read_csvlog(StreamWindow& w, const UnitBounds& u, WorkloadBuilder& b);
ReadStats read_jsonlog(StreamWindow& w, const UnitBounds& u, WorkloadBuilder& b);

}  // namespace pgopt::analyzer::input
