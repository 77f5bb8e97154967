// PgoutputDecoder: bounds-checked reads over one CopyData payload; every message either decodes
// whole or leaves the decoder as it was.
#include "pooler/cache/pgoutput_decoder.hpp"

#include <algorithm>
#include <optional>

namespace pgopt::pooler::cache {

// Big-endian reads that fail (return nullopt) instead of running past the end.
class PgoutputDecoder::Reader {
 public:
  explicit Reader(std::span<const uint8_t> b) : b_(b) {}
  bool empty() const { return pos_ == b_.size(); }
  std::optional<uint64_t> uint(int bytes) {
    if (b_.size() - pos_ < size_t(bytes)) return std::nullopt;
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = v << 8 | b_[pos_++];
    return v;
  }
  std::optional<char> byte() {
    auto v = uint(1);
    return v ? std::optional<char>(char(*v)) : std::nullopt;
  }
  std::optional<std::string_view> cstring() {
    auto end = std::find(b_.begin() + long(pos_), b_.end(), uint8_t(0));
    if (end == b_.end()) return std::nullopt;
    std::string_view s(reinterpret_cast<const char*>(b_.data() + pos_), size_t(end - (b_.begin() + long(pos_))));
    pos_ += s.size() + 1;
    return s;
  }
  bool skip(uint64_t n) {
    if (b_.size() - pos_ < n) return false;
    pos_ += size_t(n);
    return true;
  }
  std::span<const uint8_t> rest() const { return b_.subspan(pos_); }

 private:
  std::span<const uint8_t> b_;
  size_t pos_ = 0;
};

namespace {

// TupleData: Int16 columns, each 'n' (null), 'u' (unchanged TOAST), or 't'/'b' Int32 length + bytes.
template <class R>
bool skip_tuple(R& r) {
  auto n = r.uint(2);
  if (!n) return false;
  for (uint64_t i = 0; i < *n; ++i) {
    auto kind = r.byte();
    if (!kind) return false;
    if (*kind == 'n' || *kind == 'u') continue;
    if (*kind != 't' && *kind != 'b') return false;
    auto len = r.uint(4);
    if (!len || !r.skip(*len)) return false;
  }
  return true;
}

}  // namespace

PgoutputDecoder::Status PgoutputDecoder::fail(Status s, std::string why) {
  error_ = std::move(why);
  return s;
}

void PgoutputDecoder::reset() {
  relations_.clear();
  in_tx_ = false;
  tx_ = {};
  touched_.clear();
  wal_end_ = 0;
}

PgoutputDecoder::Status PgoutputDecoder::on_copy_data(std::span<const uint8_t> payload) {
  Reader r(payload);
  auto kind = r.byte();
  if (!kind) return fail(Status::Malformed, "empty CopyData");
  if (*kind == 'k') {
    auto end = r.uint(8), time = r.uint(8);
    auto reply = r.byte();
    if (!end || !time || !reply || !r.empty()) return fail(Status::Malformed, "bad primary keepalive");
    wal_end_ = std::max(wal_end_, *end);
    listener_.on_keepalive(*end, PgTimestamp(*time), *reply != 0);
    return Status::Ok;
  }
  if (*kind != 'w') return fail(Status::Unsupported, std::string("CopyData of unknown kind '") + *kind + "'");
  auto start = r.uint(8), end = r.uint(8), time = r.uint(8);
  if (!start || !end || !time) return fail(Status::Malformed, "short XLogData header");
  const Status s = pgoutput(r);
  if (s == Status::Ok) wal_end_ = std::max(wal_end_, *end);
  return s;
}

// One pgoutput message; its state changes only once it has been read whole.
PgoutputDecoder::Status PgoutputDecoder::pgoutput(Reader& r) {
  auto kind = r.byte();
  if (!kind) return fail(Status::Malformed, "empty pgoutput message");
  switch (*kind) {
    case 'B': {
      auto final_lsn = r.uint(8), time = r.uint(8), xid = r.uint(4);
      if (!final_lsn || !time || !xid || !r.empty()) return fail(Status::Malformed, "bad Begin");
      if (in_tx_) return fail(Status::Malformed, "Begin inside a transaction");
      in_tx_ = true;
      tx_ = {};
      tx_.xid = uint32_t(*xid);
      touched_.clear();
      return Status::Ok;
    }
    case 'C': {
      auto flags = r.byte();
      auto commit_lsn = r.uint(8), end_lsn = r.uint(8), time = r.uint(8);
      if (!flags || !commit_lsn || !end_lsn || !time || !r.empty()) return fail(Status::Malformed, "bad Commit");
      if (!in_tx_) return fail(Status::Malformed, "Commit without Begin");
      tx_.commit_lsn = *commit_lsn;
      tx_.end_lsn = *end_lsn;
      tx_.commit_time = PgTimestamp(*time);
      std::sort(touched_.begin(), touched_.end());
      touched_.erase(std::unique(touched_.begin(), touched_.end()), touched_.end());
      for (uint32_t id : touched_) {
        auto it = relations_.find(id);
        if (it == relations_.end()) tx_.all = true;
        else tx_.tables.push_back(it->second);
      }
      std::sort(tx_.tables.begin(), tx_.tables.end());
      tx_.tables.erase(std::unique(tx_.tables.begin(), tx_.tables.end()), tx_.tables.end());
      in_tx_ = false;
      touched_.clear();
      listener_.on_commit(tx_);
      return Status::Ok;
    }
    case 'O': {
      auto lsn = r.uint(8);
      auto name = r.cstring();
      if (!lsn || !name || !r.empty()) return fail(Status::Malformed, "bad Origin");
      return Status::Ok;
    }
    case 'Y': {
      auto oid = r.uint(4);
      auto schema = r.cstring(), name = r.cstring();
      if (!oid || !schema || !name || !r.empty()) return fail(Status::Malformed, "bad Type");
      return Status::Ok;
    }
    case 'R': {
      auto id = r.uint(4);
      auto schema = r.cstring(), table = r.cstring();
      auto identity = r.byte();
      auto ncols = r.uint(2);
      if (!id || !schema || !table || !identity || !ncols) return fail(Status::Malformed, "bad Relation");
      for (uint64_t i = 0; i < *ncols; ++i) {
        auto flags = r.byte();
        auto name = r.cstring();
        auto type = r.uint(4), typmod = r.uint(4);
        if (!flags || !name || !type || !typmod) return fail(Status::Malformed, "bad Relation column");
      }
      if (!r.empty()) return fail(Status::Malformed, "bytes after Relation");
      // pgoutput leaves the schema empty for pg_catalog.
      std::string name = std::string(schema->empty() ? "pg_catalog" : *schema) + "." + std::string(*table);
      relations_[uint32_t(*id)] = std::move(name);
      listener_.on_relation(uint32_t(*id), *schema, *table);
      return Status::Ok;
    }
    case 'I':
    case 'U':
    case 'D':
    case 'T':
      return change(*kind, r);
    default:
      return fail(Status::Unsupported, std::string("pgoutput message of unknown kind '") + *kind + "'");
  }
}

// Insert, Update, Delete, Truncate: the relation ids they touch join the open transaction.
PgoutputDecoder::Status PgoutputDecoder::change(char kind, Reader& r) {
  std::vector<uint32_t> ids;
  if (kind == 'T') {
    auto n = r.uint(4);
    auto options = r.byte();
    if (!n || !options) return fail(Status::Malformed, "bad Truncate");
    for (uint64_t i = 0; i < *n; ++i) {
      auto id = r.uint(4);
      if (!id) return fail(Status::Malformed, "short Truncate relation list");
      ids.push_back(uint32_t(*id));
    }
  } else {
    auto id = r.uint(4);
    auto tag = r.byte();
    if (!id || !tag) return fail(Status::Malformed, "short change message");
    ids.push_back(uint32_t(*id));
    // Update may carry the old key ('K') or old row ('O') before the new one ('N').
    if (kind == 'U' && (*tag == 'K' || *tag == 'O')) {
      if (!skip_tuple(r)) return fail(Status::Malformed, "bad old tuple in Update");
      tag = r.byte();
      if (!tag) return fail(Status::Malformed, "Update without its new tuple");
    }
    const bool ok_tag = kind == 'D' ? (*tag == 'K' || *tag == 'O') : *tag == 'N';
    if (!ok_tag || !skip_tuple(r)) return fail(Status::Malformed, "bad tuple data");
  }
  if (!r.empty()) return fail(Status::Malformed, "bytes after a change message");
  if (!in_tx_) return fail(Status::Malformed, "change outside a transaction");
  touched_.insert(touched_.end(), ids.begin(), ids.end());
  return Status::Ok;
}

namespace pgoutput_build {
namespace {
void u(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(char((v >> (8 * i)) & 0xff));
}
void cstr(std::string& out, std::string_view s) {
  out.append(s);
  out.push_back('\0');
}
void tuple(std::string& out, std::span<const std::string_view> values) {
  u(out, values.size(), 2);
  for (std::string_view v : values) {
    out.push_back('t');
    u(out, v.size(), 4);
    out.append(v);
  }
}
}  // namespace

std::string xlog_data(uint64_t start, uint64_t end, PgTimestamp send_time, std::string_view message) {
  std::string out("w");
  u(out, start, 8);
  u(out, end, 8);
  u(out, uint64_t(send_time), 8);
  out.append(message);
  return out;
}
std::string keepalive(uint64_t wal_end, PgTimestamp time, bool reply) {
  std::string out("k");
  u(out, wal_end, 8);
  u(out, uint64_t(time), 8);
  out.push_back(reply ? 1 : 0);
  return out;
}
std::string begin(uint64_t final_lsn, PgTimestamp commit_time, uint32_t xid) {
  std::string out("B");
  u(out, final_lsn, 8);
  u(out, uint64_t(commit_time), 8);
  u(out, xid, 4);
  return out;
}
std::string commit(uint64_t commit_lsn, uint64_t end_lsn, PgTimestamp commit_time) {
  std::string out("C");
  out.push_back('\0');
  u(out, commit_lsn, 8);
  u(out, end_lsn, 8);
  u(out, uint64_t(commit_time), 8);
  return out;
}
std::string relation(uint32_t id, std::string_view schema, std::string_view table,
                     std::span<const std::string_view> columns) {
  std::string out("R");
  u(out, id, 4);
  cstr(out, schema);
  cstr(out, table);
  out.push_back('d');
  u(out, columns.size(), 2);
  for (std::string_view c : columns) {
    out.push_back(1);
    cstr(out, c);
    u(out, 25, 4);  // text
    u(out, 0xffffffff, 4);
  }
  return out;
}
std::string insert(uint32_t relation, std::span<const std::string_view> values) {
  std::string out("I");
  u(out, relation, 4);
  out.push_back('N');
  tuple(out, values);
  return out;
}
std::string update(uint32_t relation, std::span<const std::string_view> old_key, std::span<const std::string_view> values) {
  std::string out("U");
  u(out, relation, 4);
  if (!old_key.empty()) {
    out.push_back('K');
    tuple(out, old_key);
  }
  out.push_back('N');
  tuple(out, values);
  return out;
}
std::string remove(uint32_t relation, std::span<const std::string_view> old_key) {
  std::string out("D");
  u(out, relation, 4);
  out.push_back('K');
  tuple(out, old_key);
  return out;
}
std::string truncate(std::span<const uint32_t> relations, uint8_t options) {
  std::string out("T");
  u(out, relations.size(), 4);
  out.push_back(char(options));
  for (uint32_t id : relations) u(out, id, 4);
  return out;
}
std::string origin(uint64_t lsn, std::string_view name) {
  std::string out("O");
  u(out, lsn, 8);
  cstr(out, name);
  return out;
}
std::string type(uint32_t oid, std::string_view schema, std::string_view name) {
  std::string out("Y");
  u(out, oid, 4);
  cstr(out, schema);
  cstr(out, name);
  return out;
}
std::string standby_status(uint64_t lsn, PgTimestamp now, bool reply) {
  std::string out("r");
  u(out, lsn, 8);
  u(out, lsn, 8);
  u(out, lsn, 8);
  u(out, uint64_t(now), 8);
  out.push_back(reply ? 1 : 0);
  return out;
}
}  // namespace pgoutput_build

}  // namespace pgopt::pooler::cache
