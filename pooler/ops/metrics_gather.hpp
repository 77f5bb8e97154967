// The runtime as the Prometheus endpoint shows it (metrics/ never reads the runtime itself).
#pragma once

#include "pooler/metrics/endpoint.hpp"
#include "pooler/metrics/scrape.hpp"
#include "pooler/runtime.hpp"

namespace pgopt::pooler::ops {

// Counts taken on each worker (sessions are single-threaded), pools, replica sets, elections, the
// statement registry and the result cache read under their own locks.
awaitable<metrics::Snapshot> gather_metrics(Runtime& rt);

// What metrics::Endpoint serves: gather_metrics(rt), and /healthz true until the drain begins.
metrics::Endpoint::Sources metrics_sources(Runtime& rt);

}  // namespace pgopt::pooler::ops
