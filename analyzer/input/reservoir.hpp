// Bounded uniform samples that do not depend on how the log was split: bottom-k sampling keyed by
// where each candidate was logged, and the merge of two such samples.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace pgopt::analyzer::input {

inline uint64_t mix64(uint64_t x) {  // splitmix64 finaliser
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// A stateless random draw: the same seed, stream and n always give the same value, whichever
// thread or order produced it.
inline uint64_t draw(uint64_t seed, uint64_t stream, uint64_t n) { return mix64(seed ^ mix64(stream + mix64(n))); }

// The random key of a candidate logged at byte `offset` of input number `source` (in reading
// order). It depends only on where the entry is, never on which --jobs range read it, so any split
// keeps the same candidates: the kept ones are those with the `cap` smallest keys.
inline uint64_t sample_key(uint64_t seed, uint64_t stream, uint64_t source, uint64_t offset) {
  return draw(seed, stream ^ mix64(source ^ 0x50ull), offset);
}

// Strict order of (key, value): equal keys (a 64-bit collision) are settled by the value, so the
// kept set never depends on arrival order.
template <class T>
bool key_less(const std::pair<uint64_t, T>& a, const std::pair<uint64_t, T>& b) {
  return a.first != b.first ? a.first < b.first : a.second < b.second;
}

// Bottom-k sample under construction: a max-heap of the `cap` smallest (key, value) pairs seen.
// Each candidate costs one comparison with the current largest kept key; `make` builds the value
// only when it may be kept (the key decides unless it ties with the largest).
template <class T>
class BottomK {
 public:
  template <class Make>
  void offer(size_t cap, uint64_t key, Make&& make) {
    if (cap == 0) return;
    if (heap_.size() < cap) {
      heap_.emplace_back(key, make());
      std::push_heap(heap_.begin(), heap_.end(), key_less<T>);
      return;
    }
    if (key > heap_.front().first) return;
    std::pair<uint64_t, T> candidate(key, make());
    if (!key_less(candidate, heap_.front())) return;
    std::pop_heap(heap_.begin(), heap_.end(), key_less<T>);
    heap_.back() = std::move(candidate);
    std::push_heap(heap_.begin(), heap_.end(), key_less<T>);
  }

  // The sample in canonical order (ascending key), split into values and keys.
  void take(std::vector<T>& values, std::vector<uint64_t>& keys) {
    std::sort(heap_.begin(), heap_.end(), key_less<T>);
    values.clear();
    keys.clear();
    values.reserve(heap_.size());
    keys.reserve(heap_.size());
    for (auto& [k, v] : heap_) {
      keys.push_back(k);
      values.push_back(std::move(v));
    }
    heap_.clear();
  }

 private:
  std::vector<std::pair<uint64_t, T>> heap_;
};

// Elements without keys (a group built by hand rather than read from a log) get keys from their
// position, so they can still be merged; `salt` keeps two such lists from drawing the same keys.
inline void fill_missing_keys(size_t n, std::vector<uint64_t>& keys, uint64_t seed, uint64_t salt) {
  if (keys.size() == n) return;
  keys.resize(n);
  for (size_t i = 0; i < n; ++i) keys[i] = draw(seed, salt, i);
}

// Pairs (key, value) in ascending key_less order; already so for samples taken from a log.
template <class T>
std::vector<std::pair<uint64_t, T>> sorted_pairs(std::vector<T>& values, std::vector<uint64_t>& keys) {
  std::vector<std::pair<uint64_t, T>> out;
  out.reserve(values.size());
  for (size_t i = 0; i < values.size(); ++i) out.emplace_back(keys[i], std::move(values[i]));
  if (!std::is_sorted(out.begin(), out.end(), key_less<T>)) std::sort(out.begin(), out.end(), key_less<T>);
  return out;
}

// Merges sample b into sample a: the `cap` smallest (key, value) pairs of both, in ascending key
// order. Bottom-k samples of disjoint parts of a log merge into exactly the bottom-k sample of the
// whole, whatever the parts were. Linear: both sides are sorted already (per-job partials are
// merged dozens of times per run).
template <class T>
void bottom_k_merge(std::vector<T>& a, std::vector<uint64_t>& a_keys, std::vector<T> b, std::vector<uint64_t> b_keys,
                    size_t cap, uint64_t seed) {
  if (b.empty()) return;
  fill_missing_keys(a.size(), a_keys, seed, 0xa);
  fill_missing_keys(b.size(), b_keys, seed, 0xb);
  auto pa = sorted_pairs(a, a_keys), pb = sorted_pairs(b, b_keys);
  a.clear();
  a_keys.clear();
  size_t i = 0, j = 0;
  while (a.size() < cap && (i < pa.size() || j < pb.size())) {
    bool from_a = j == pb.size() || (i < pa.size() && !key_less(pb[j], pa[i]));
    auto& p = from_a ? pa[i++] : pb[j++];
    a_keys.push_back(p.first);
    a.push_back(std::move(p.second));
  }
}

}  // namespace pgopt::analyzer::input
