// Seeded reservoir sampling (Algorithm R) and the merge of two reservoirs; deterministic for a seed.
#pragma once

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

// A stateless random draw for the n-th candidate of one reservoir: the same seed, group and
// position always give the same decision, whichever thread or order produced it.
inline uint64_t draw(uint64_t seed, uint64_t stream, uint64_t n) { return mix64(seed ^ mix64(stream + mix64(n))); }

// Algorithm R: the `seen`-th candidate (1-based, already counted) replaces a random slot with
// probability cap/seen. `make` builds the element only when it is kept.
template <class T, class Make>
void reservoir_offer(std::vector<T>& r, size_t cap, uint64_t seen, uint64_t random, Make&& make) {
  if (cap == 0) return;
  if (r.size() < cap) {
    r.push_back(make());
    return;
  }
  uint64_t j = random % seen;
  if (j < cap) r[size_t(j)] = make();
}

// Combines reservoir `b` (a uniform sample of nb candidates) into `a` (of na) so `a` becomes a uniform
// sample of na + nb, keeping at most `cap`. When both kept everything, this is plain concatenation
// (so splitting a log into jobs changes nothing until a reservoir overflows).
template <class T>
void reservoir_merge(std::vector<T>& a, uint64_t na, std::vector<T> b, uint64_t nb, size_t cap, uint64_t seed) {
  if (a.size() + b.size() <= cap) {
    for (auto& x : b) a.push_back(std::move(x));
    return;
  }
  // Draw the merged sample from the union of the two populations without replacement: each pick
  // comes from A with probability (A's remaining candidates) / (all remaining candidates), and is
  // one of A's kept elements at random (they are a uniform sample of A's candidates).
  uint64_t pop_a = na, pop_b = nb;
  std::vector<T> out;
  out.reserve(cap);
  uint64_t k = 0;
  while (out.size() < cap && (!a.empty() || !b.empty())) {
    bool take_a;
    if (a.empty() || pop_a == 0) take_a = false;
    else if (b.empty() || pop_b == 0) take_a = true;
    else take_a = draw(seed, 0x5eed, ++k) % (pop_a + pop_b) < pop_a;
    std::vector<T>& from = take_a ? a : b;
    (take_a ? pop_a : pop_b)--;
    size_t idx = size_t(draw(seed, 0x1d, ++k) % from.size());
    out.push_back(std::move(from[idx]));
    from[idx] = std::move(from.back());
    from.pop_back();
  }
  a = std::move(out);
}

}  // namespace pgopt::analyzer::input
