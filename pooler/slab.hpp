// Fixed-size chunks for long-lived objects of one type (client sessions), away from short-lived allocations.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

namespace pgopt::pooler {

// A session lives for minutes or hours; the buffers, coroutine frames and strings made while it
// logs in live for microseconds. In a general allocator they share pages (same size class), and
// the pages of 10,000 parked sessions stay ~30% empty once the short-lived objects are gone. A
// slab keeps sessions in 64 kB chunks of their own, as PgBouncer does for its sockets. Chunks are
// kept for reuse, never returned: memory stays at the peak number of clients, like PgBouncer's.
class Slab {
 public:
  // Each slot holds the free list's link while it is free: at least a pointer in size and alignment.
  Slab(size_t size, size_t align)
      : size_(round_up(std::max(size, sizeof(Free)), std::max(align, alignof(Free)))),
        per_chunk_(std::max<size_t>(8, kChunkBytes / size_)) {}
  void* take() {
    std::lock_guard lk(mu_);
    if (!free_) grow();
    Free* f = free_;
    free_ = f->next;
    return f;
  }
  void give(void* p) {
    std::lock_guard lk(mu_);
    give_locked(p);
  }

 private:
  static constexpr size_t kChunkBytes = 64 * 1024;
  struct Free {
    Free* next;
  };
  static size_t round_up(size_t n, size_t align) { return (n + align - 1) / align * align; }
  void grow() {
    chunks_.push_back(std::make_unique<std::byte[]>(size_ * per_chunk_));
    std::byte* base = chunks_.back().get();
    for (size_t i = per_chunk_; i-- > 0;) give_locked(base + i * size_);
  }
  void give_locked(void* p) {
    auto* f = static_cast<Free*>(p);
    f->next = free_;
    free_ = f;
  }
  std::mutex mu_;
  Free* free_ = nullptr;
  std::vector<std::unique_ptr<std::byte[]>> chunks_;
  const size_t size_, per_chunk_;
};

// For std::allocate_shared: single objects (the session with its control block) come from a slab
// per type. The sanitizer build uses plain new/delete, so AddressSanitizer still sees every use
// after free.
template <class T>
struct SlabAllocator {
  using value_type = T;
  SlabAllocator() = default;
  template <class U>
  SlabAllocator(const SlabAllocator<U>&) {}  // NOLINT: rebinding, as allocate_shared needs

  T* allocate(size_t n) {
#ifndef __SANITIZE_ADDRESS__
    if (n == 1 && alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__) return static_cast<T*>(slab().take());
#endif
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, size_t n) {
#ifndef __SANITIZE_ADDRESS__
    if (n == 1 && alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__) return slab().give(p);
#endif
    std::allocator<T>().deallocate(p, n);
  }
  // Never destroyed: a session released during static destruction must still find its slab.
  static Slab& slab() {
    static Slab* s = new Slab(sizeof(T), alignof(T));
    return *s;
  }
  template <class U>
  bool operator==(const SlabAllocator<U>&) const { return true; }
};

}  // namespace pgopt::pooler
