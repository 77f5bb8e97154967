// Which client Syncs the server will never answer: PostgreSQL ignores Sync while in COPY FROM STDIN.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace pgopt::pooler::session {

// libpq's extended-protocol COPY sends Parse/Bind/Execute/Sync, then the data and CopyDone, then
// another Sync: the first Sync reaches the server during copy-in, is ignored, and only the second
// gets a ReadyForQuery. A relay that counted both would wait for a reply that never comes and keep
// the server forever. Socket-free; the relay feeds it messages in stream order.
class CopySyncs {
 public:
  // A client message on its way to the server. For a Sync, returns whether the server will answer
  // it (false when a COPY FROM STDIN is known to be open right now).
  bool on_client(char type) {
    switch (type) {
      case 'S':
        if (copies_begun_ > copy_ends_) return false;
        owed_.push_back({true, copy_ends_});
        return true;
      case 'Q':
      case 'F':
        owed_.push_back({false, copy_ends_});
        return true;
      case 'c':
      case 'f':
        ++copy_ends_;
        return true;
      default:
        return true;
    }
  }
  // CopyInResponse from the server: how many Syncs already sent (the oldest unanswered ones) fall
  // inside this copy and will be ignored.
  int on_copy_in() {
    const uint64_t copy = copies_begun_++;
    auto kept = std::remove_if(owed_.begin() + std::ptrdiff_t(head_), owed_.end(),
                               [copy](const Owed& o) { return o.sync && o.copy_ends <= copy; });
    const int ignored = int(owed_.end() - kept);
    owed_.erase(kept, owed_.end());
    return ignored;
  }
  // A ReadyForQuery: answers the oldest request that owes one.
  void on_ready() {
    if (head_ >= owed_.size()) return;
    if (++head_ == owed_.size()) {
      owed_.clear();
      head_ = 0;
    } else if (head_ >= 64 && head_ * 2 >= owed_.size()) {
      // A pipeline that never drains: drop the answered front now and then, amortized O(1).
      owed_.erase(owed_.begin(), owed_.begin() + std::ptrdiff_t(head_));
      head_ = 0;
    }
  }
  size_t owed() const { return owed_.size() - head_; }
  // A COPY FROM STDIN the server has started and the client has not ended.
  bool copy_in_open() const { return copies_begun_ > copy_ends_; }
  size_t capacity() const { return owed_.capacity(); }
  void reset() {
    owed_.clear();
    head_ = 0;
    copies_begun_ = copy_ends_ = 0;
  }

 private:
  struct Owed {
    bool sync;           // a Sync (else a Query or FunctionCall, which COPY never voids)
    uint64_t copy_ends;  // copies the client had ended when it sent this
  };
  // Requests whose ReadyForQuery has not come, oldest first, from head_ on. A vector, not a deque:
  // an empty std::deque still allocates ~600 bytes, for each of 10,000 idle clients.
  std::vector<Owed> owed_;
  size_t head_ = 0;
  uint64_t copies_begun_ = 0, copy_ends_ = 0;
};

}  // namespace pgopt::pooler::session
