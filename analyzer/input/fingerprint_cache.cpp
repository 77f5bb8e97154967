// Open-addressing memo from statement shape to libpg_query's fingerprint and normalized text.
#include "analyzer/input/fingerprint_cache.hpp"

#include <cstring>

#include "sql/parser.hpp"

namespace pgopt::analyzer::input {

uint64_t hash_bytes(std::string_view s) {
  // 8 bytes at a time, multiply-xorshift mixing (wyhash-like constants); good spread, no table.
  const uint64_t k = 0x9E3779B97F4A7C15ull;
  uint64_t h = 0x243F6A8885A308D3ull ^ (s.size() * k);
  const char* p = s.data();
  size_t n = s.size();
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    h = (h ^ v) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
    p += 8;
    n -= 8;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, p, n);
  h = (h ^ tail ^ (uint64_t(n) << 56)) * 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 29;
  h *= k;
  h ^= h >> 32;
  return h;
}

FingerprintCache::FingerprintCache(size_t max_entries, size_t max_bytes)
    : max_entries_(max_entries ? max_entries : 1), max_bytes_(max_bytes) {
  slots_.assign(1024, 0);
}

void FingerprintCache::clear() {
  entries_.clear();
  bytes_ = 0;
  slots_.assign(1024, 0);
}

void FingerprintCache::grow() {
  std::vector<uint32_t> bigger(slots_.size() * 2, 0);
  size_t mask = bigger.size() - 1;
  for (size_t i = 0; i < entries_.size(); ++i) {
    size_t at = entries_[i].hash & mask;
    while (bigger[at]) at = (at + 1) & mask;
    bigger[at] = uint32_t(i + 1);
  }
  slots_.swap(bigger);
}

const ShapeInfo& FingerprintCache::lookup(std::string_view shape, std::string_view sql) {
  uint64_t h = hash_bytes(shape);
  size_t mask = slots_.size() - 1;
  size_t at = h & mask;
  while (uint32_t idx = slots_[at]) {
    const Entry& e = entries_[idx - 1];
    if (e.hash == h && e.shape == shape) {
      ++hits_;
      return e.info;
    }
    at = (at + 1) & mask;
  }
  ++misses_;
  if (entries_.size() >= max_entries_ || bytes_ + shape.size() > max_bytes_) {
    clear();
    mask = slots_.size() - 1;
    at = h & mask;
  }
  Entry e{h, std::string(shape), {}};
  auto fp = sql::fingerprint(sql);
  if (fp.value) {
    e.info.ok = true;
    e.info.fingerprint = *fp.value;
    auto norm = sql::normalize(sql);
    e.info.normalized = norm.text ? std::move(*norm.text) : std::string(sql);
  }
  bytes_ += e.shape.size() + e.info.normalized.size();
  entries_.push_back(std::move(e));
  slots_[at] = uint32_t(entries_.size());
  if (entries_.size() * 2 > slots_.size()) grow();
  return entries_.back().info;
}

}  // namespace pgopt::analyzer::input
