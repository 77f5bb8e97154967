// A process-wide allowance of memory shared by every worker: large client messages (issue 15).
#pragma once

#include <atomic>
#include <cstddef>

namespace pgopt::pooler {

// Lock-free: take() succeeds while the total in use stays within the limit. The limit is live
// (a reload may lower it; what is held stays held until given back).
class MemoryBudget {
 public:
  void set_limit(size_t bytes) { limit_.store(bytes, std::memory_order_relaxed); }
  size_t limit() const { return limit_.load(std::memory_order_relaxed); }
  size_t in_use() const { return used_.load(std::memory_order_relaxed); }
  bool take(size_t n) {
    size_t used = used_.load(std::memory_order_relaxed);
    do {
      if (used + n > limit()) return false;
    } while (!used_.compare_exchange_weak(used, used + n, std::memory_order_relaxed));
    return true;
  }
  void give(size_t n) { used_.fetch_sub(n, std::memory_order_relaxed); }

 private:
  std::atomic<size_t> limit_{512u << 20};
  std::atomic<size_t> used_{0};
};

// What one holder has taken from a budget; gives it back when dropped.
class BudgetLease {
 public:
  BudgetLease() = default;
  BudgetLease(const BudgetLease&) = delete;
  BudgetLease& operator=(const BudgetLease&) = delete;
  ~BudgetLease() { release(); }
  // Holds at least `n` from `b` afterwards; false (holding what it held) when the budget is short.
  bool grow_to(MemoryBudget& b, size_t n) {
    if (n <= held_) return true;
    if (!b.take(n - held_)) return false;
    budget_ = &b;
    held_ = n;
    return true;
  }
  void release() {
    if (budget_ && held_) budget_->give(held_);
    held_ = 0;
  }
  size_t held() const { return held_; }

 private:
  MemoryBudget* budget_ = nullptr;
  size_t held_ = 0;
};

}  // namespace pgopt::pooler
