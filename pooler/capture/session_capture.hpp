// One client's statements on their way through the relay: which text each Execute or Query
// statement runs, when it was sent, and which reply ends it; finished ones go to the worker's store.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "pooler/capture/store.hpp"
#include "pooler/protocol/codec.hpp"

namespace pgopt::pooler::prepared {
class Tracker;
}

namespace pgopt::pooler::capture {

// Replies and statements are matched in order: PostgreSQL answers every Query statement and every
// Execute with exactly one CommandComplete, EmptyQueryResponse, PortalSuspended or ErrorResponse, and
// after an error skips the rest of the Query or of the group up to its Sync (ReadyForQuery then
// drops what was never run). Statements are numbered by the Query/Sync that closes their group.
class SessionCapture {
 public:
  // Each client message the relay sends to the server, after the relay's own bookkeeping.
  // `ignored_sync`: a Sync the server will not answer (COPY FROM STDIN). `replica`: where it runs.
  // `tracker`: the client's named statements when the prepared-statement tracker keeps them.
  void on_client(WorkerStore& store, const protocol::Frame& f, bool ignored_sync, bool replica,
                 const prepared::Tracker* tracker, std::string_view database, std::string_view user) {
    if (store.active() || following()) client(store, f, ignored_sync, replica, tracker, database, user);
  }
  // Each server reply the relay passes on to the client (not those it drops).
  void on_server(char type, std::span<const uint8_t> body) {
    if (following()) server(type, body);
  }
  bool following() const { return sent_seq_ != done_seq_; }
  // Nothing in flight and no named statement or portal to remember: a parked client may drop it
  // (its unnamed statement and portal belonged to the server of its last transaction anyway).
  bool blank() const { return !following() && named_.empty() && named_portals_.empty(); }
  // The batch in flight goes to another server and will be fed again: forget what was sent.
  void abandon();

 private:
  struct Pending {
    ShapePtr shape;           // null: a statement not captured (its reply is still counted off)
    Stats* entry = nullptr;   // null with `counted`: dropped (capture_max_queries)
    bool counted = false;     // capture was on when it was sent
    bool replica = false;
    uint64_t seq = 0;         // the Query or Sync that ends its group
    std::chrono::steady_clock::time_point start;
  };
  void client(WorkerStore& store, const protocol::Frame& f, bool ignored_sync, bool replica,
              const prepared::Tracker* tracker, std::string_view database, std::string_view user);
  void server(char type, std::span<const uint8_t> body);
  void start(ShapePtr shape, uint64_t seq, bool replica, std::chrono::steady_clock::time_point now);
  void finish(bool error, uint64_t rows);
  ShapePtr statement_shape(std::string_view name, const prepared::Tracker* tracker);
  ShapePtr& portal(std::string_view name);

  WorkerStore* store_ = nullptr;
  std::string_view database_, user_;  // the session's own, alive as long as it is
  std::vector<Pending> pending_;
  size_t head_ = 0;
  uint64_t sent_seq_ = 0, done_seq_ = 0;
  uint64_t last_finish_seq_ = 0;
  std::chrono::steady_clock::time_point last_finish_;
  // Extended protocol: the unnamed statement, the client's named ones (when no tracker keeps them,
  // and those parsed in the batch being sent), and portals.
  ShapePtr unnamed_statement_;
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, ShapePtr, NameHash, std::equal_to<>> named_;
  ShapePtr unnamed_portal_;
  std::vector<std::pair<std::string, ShapePtr>> named_portals_;

  static constexpr size_t kMaxNamed = 1024;
  static constexpr size_t kMaxPortals = 32;
};

// The row count of a CommandComplete tag ("SELECT 5", "INSERT 0 5", "UPDATE 3"); 0 for others.
uint64_t tag_rows(std::span<const uint8_t> body);

}  // namespace pgopt::pooler::capture
