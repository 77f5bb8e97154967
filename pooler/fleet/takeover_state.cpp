#include "pooler/fleet/takeover_state.hpp"

#include <cstring>

namespace pgopt::pooler::fleet {

namespace {

// Fixed-width little-endian integers and u32-length strings: both processes run on one host, but
// the format must not depend on either build's struct layout.
class Put {
 public:
  explicit Put(std::string& out) : out_(out) {}
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(char(v >> (8 * i)));
  }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) out_.push_back(char(v >> (8 * i)));
  }
  void str(const std::string& s) {
    u32(uint32_t(s.size()));
    out_ += s;
  }

 private:
  std::string& out_;
};

class Get {
 public:
  explicit Get(std::span<const uint8_t> in) : in_(in) {}
  uint64_t u64() {
    uint64_t v = 0;
    if (!need(8)) return 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t(in_[pos_ + i]) << (8 * i);
    pos_ += 8;
    return v;
  }
  uint32_t u32() {
    uint32_t v = 0;
    if (!need(4)) return 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t(in_[pos_ + i]) << (8 * i);
    pos_ += 4;
    return v;
  }
  std::string str() {
    const uint32_t n = u32();
    if (!need(n)) return {};
    std::string s(reinterpret_cast<const char*>(in_.data()) + pos_, n);
    pos_ += n;
    return s;
  }
  // A count of items that each take at least `min_size` bytes: larger than what is left is garbage.
  uint32_t count(size_t min_size) {
    const uint32_t n = u32();
    if (!failed_ && size_t(n) * min_size > in_.size() - pos_) failed_ = true;
    return failed_ ? 0 : n;
  }
  bool ok_at_end() const { return !failed_ && pos_ == in_.size(); }

 private:
  bool need(size_t n) {
    if (failed_ || in_.size() - pos_ < n) failed_ = true;
    return !failed_;
  }
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace

std::string encode(const MovedClient& c) {
  std::string out;
  Put p(out);
  p.u32(kTakeoverVersion);
  p.u64(c.id);
  p.str(c.peer);
  p.str(c.user);
  p.str(c.database);
  p.u32(uint32_t(c.cancel_pid));
  p.u32(uint32_t(c.cancel_secret));
  p.u32(c.read_your_writes ? 1 : 0);
  p.u32(c.ryw_pending ? 1 : 0);
  p.u64(c.ryw_lsn);
  p.u32(c.route);
  p.u32(c.cache_off ? 1 : 0);
  p.u32(uint32_t(c.settings.size()));
  for (const auto& s : c.settings) {
    p.str(s.name);
    p.str(s.value);
    p.u32(s.replayed ? 1 : 0);
  }
  p.u32(uint32_t(c.statements.size()));
  for (const auto& s : c.statements) {
    p.str(s.name);
    p.str(s.query);
    p.u32(uint32_t(s.param_types.size()));
    for (int32_t t : s.param_types) p.u32(uint32_t(t));
    p.str(s.sql_before);
    p.str(s.sql_after);
  }
  p.str(c.scram_client_key);
  return out;
}

std::optional<MovedClient> decode_moved_client(std::span<const uint8_t> bytes) {
  Get g(bytes);
  if (g.u32() != kTakeoverVersion) return std::nullopt;
  MovedClient c;
  c.id = g.u64();
  c.peer = g.str();
  c.user = g.str();
  c.database = g.str();
  c.cancel_pid = int32_t(g.u32());
  c.cancel_secret = int32_t(g.u32());
  c.read_your_writes = g.u32() != 0;
  c.ryw_pending = g.u32() != 0;
  c.ryw_lsn = g.u64();
  c.route = uint8_t(g.u32());
  c.cache_off = g.u32() != 0;
  for (uint32_t n = g.count(12); n > 0; --n) {
    MovedSetting s;
    s.name = g.str();
    s.value = g.str();
    s.replayed = g.u32() != 0;
    c.settings.push_back(std::move(s));
  }
  for (uint32_t n = g.count(20); n > 0; --n) {
    MovedStatement s;
    s.name = g.str();
    s.query = g.str();
    for (uint32_t k = g.count(4); k > 0; --k) s.param_types.push_back(int32_t(g.u32()));
    s.sql_before = g.str();
    s.sql_after = g.str();
    c.statements.push_back(std::move(s));
  }
  c.scram_client_key = g.str();
  if (!g.ok_at_end()) return std::nullopt;
  return c;
}

}  // namespace pgopt::pooler::fleet
