// The workers' capture stores brought together: for SHOW QUERIES and the periodic capture_file.
#pragma once

#include "pooler/capture/store.hpp"
#include "pooler/runtime.hpp"

namespace pgopt::pooler::ops {

// Each worker's store is copied on its own thread, then merged (dbname filled from the live config).
awaitable<capture::Snapshot> collect_capture(Runtime& rt);

// Pushes the live capture settings to every worker (at start and after each reload).
void configure_capture(Runtime& rt, const PoolerSettings& settings);

// Writes capture_file now, if one is set; a failure is logged and the pooler carries on.
awaitable<void> write_capture_file(Runtime& rt);
// Runs on the Daemon's main executor: writes capture_file every capture_interval (both re-read
// from the live config each time) until shutdown.
awaitable<void> capture_file_loop(Runtime& rt);

}  // namespace pgopt::pooler::ops
