// A client's own last commit per table: it never reads a cached entry filled before a commit of its
// own to a table that entry read. Per client session, not thread-safe (the session's worker owns it).
//
// Why, beside invalidation at commit: invalidation already removes such entries, but a client that
// has just written must see its write even where that proof has a gap (an entry filled from a
// query that started before the commit and slipped past the fill check, a future fill path such as
// logical decoding with its delay). The check costs one hash lookup per table of an entry.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>

namespace pgopt::pooler::cache {

class ClientCommits {
 public:
  // The client's transaction committed writes to `tables` (or to anything, `all`), and the store
  // invalidated them at sequence number `seq` (Store::invalidate's answer).
  void note(std::span<const std::string> tables, bool all, uint64_t seq);

  // May this client read an entry filled from a query that started at `filled_seq`
  // (Store::begin_fill's ticket) and read `tables`? False when the client committed to one of them
  // (or to everything) at a later seq: the query may have run before that commit was visible.
  bool allows(uint64_t filled_seq, std::span<const std::string> tables) const;

  void clear();

 private:
  std::unordered_map<std::string, uint64_t> last_commit_;  // table_key() -> seq
  uint64_t all_ = 0;                                        // last commit of unknown tables
};

}  // namespace pgopt::pooler::cache
