// The result cache's change stream (`[cache] invalidation = "logical"`, docs/result-cache.md): one
// background coroutine per database on the daemon's thread, holding a logical replication
// connection that decodes every committed change (pgoutput, the configured publication) and
// invalidates the tables it touched, so writes that bypass the pooler reach the cache too.
#pragma once

#include <memory>
#include <string>

#include "pooler/cache/result_cache.hpp"
#include "pooler/net.hpp"

namespace pgopt::pooler {

struct Runtime;

// Runs until shutdown or until `database` leaves the config. Its database's entries are served
// only while the stream is up (Store::stream_up/stream_down); it reconnects with backoff.
awaitable<void> run_change_stream(Runtime& rt, std::string database, std::shared_ptr<cache::ResultCache> rc);

// SQL quoting for the replication commands (exposed for tests).
std::string quote_identifier(std::string_view name);
std::string quote_literal(std::string_view text);

}  // namespace pgopt::pooler
