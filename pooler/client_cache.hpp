// A client session's part of the result cache (docs/result-cache.md, "Wiring"): its write tracker
// and own commits, and the fill of the statement it has in flight. Made at login only when
// `[cache] enabled = true`, so a session without the cache pays one null pointer test per batch.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pooler/cache/client_commits.hpp"
#include "pooler/cache/key.hpp"
#include "pooler/cache/reply_capture.hpp"
#include "pooler/cache/result_cache.hpp"
#include "pooler/cache/store.hpp"
#include "pooler/cache/write_tracker.hpp"
#include "pooler/config/config.hpp"
#include "pooler/protocol/codec.hpp"
#include "sql/classify.hpp"

namespace pgopt::pooler {

// An extended-protocol request the cache may answer (client_cache.cpp): the text its Bind runs and
// what of the Parse and Bind goes into the key. Views into the client's input buffer.
struct CacheExtended {
  std::string_view text;
  std::vector<uint32_t> param_types;  // the Parse's, or the named statement's
  protocol::BindMsg bind;
  bool parse = false;     // a Parse came first: the answer starts with ParseComplete
  bool describe = false;  // Describe of the portal: the answer keeps its RowDescription
};

struct SessionCache {
  explicit SessionCache(std::shared_ptr<cache::ResultCache> c) : shared(std::move(c)) {}

  // A miss sent to the server: its reply is captured as it is forwarded and stored at its
  // ReadyForQuery when complete and from the primary.
  struct Fill {
    cache::Key key;
    std::vector<std::string> tables;
    size_t rule = 0;
    cache::Clock::time_point expires;
    cache::FillTicket ticket;
    cache::ReplyCapture capture;
  };

  // `SET pgopt.cache = off` turns lookups and fills off for this client; its writes still
  // invalidate (other clients' entries must not outlive them). RESET, RESET ALL, DISCARD ALL: On.
  enum class Use { On, Off };

  std::shared_ptr<cache::ResultCache> shared;
  Use use = Use::On;
  // A malformed `pgopt:cache` hint, reported to the client as a WARNING before its statement goes
  // to the server (uncached); empty when there is none.
  std::string hint_warning;
  cache::WriteTracker tracker;
  cache::ClientCommits commits;
  std::string unnamed_text;  // the unnamed statement's text: what a Bind of "" runs
  // What written_tables() is told (write_functions, read_only_functions), from `options_of`.
  sql::ClassifierOptions options;
  std::string options_key;  // sql::options_key(options): they differ per database
  const DatabaseConfig* options_of = nullptr;
  std::optional<Fill> fill;

  // Applies an invalidation the tracker named: before the message that caused it is forwarded.
  void apply(const cache::Invalidation& inv) {
    if (inv.empty()) return;
    const uint64_t seq = shared->store.invalidate(inv.tables, inv.all);
    commits.note(inv.tables, inv.all, seq);
  }
};

}  // namespace pgopt::pooler
