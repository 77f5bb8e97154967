// The statements one server connection has prepared, least recently used first out.
#include "pooler/prepared/server_statements.hpp"

namespace pgopt::pooler::prepared {

bool ServerStatements::has(const Statement& s) {
  auto it = by_id_.find(s.id);
  if (it == by_id_.end()) {
    ++misses;
    return false;
  }
  ++hits;
  it->second->group = group_;
  lru_.splice(lru_.begin(), lru_, it->second);
  return true;
}

bool ServerStatements::outdated(const Statement& s) {
  auto it = by_id_.find(s.id);
  if (it == by_id_.end() || it->second->group == group_ || it->second->epoch >= epoch()) return false;
  ++reprepares;
  lru_.erase(it->second);
  by_id_.erase(it);
  return true;
}

void ServerStatements::add(StatementPtr s, size_t capacity, std::vector<StatementPtr>& evicted) {
  if (auto it = by_id_.find(s->id); it != by_id_.end()) {
    it->second->group = group_;
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  uint64_t id = s->id;
  lru_.push_front({std::move(s), group_, epoch()});
  by_id_[id] = lru_.begin();
  while (by_id_.size() > capacity && !lru_.empty() && lru_.back().group != group_) {
    ++evictions;
    evicted.push_back(std::move(lru_.back().stmt));
    by_id_.erase(evicted.back()->id);
    lru_.pop_back();
  }
}

void ServerStatements::restore_outdated(StatementPtr s) {
  uint64_t id = s->id;
  remove(id);
  // No group, and an epoch below any current one (the copy only became outdated because the
  // current epoch is above 0): outdated again at its next use.
  lru_.push_back({std::move(s), UINT64_MAX, 0, true});
  by_id_[id] = std::prev(lru_.end());
}

void ServerStatements::remove(uint64_t id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  lru_.erase(it->second);
  by_id_.erase(it);
}

void ServerStatements::forget_added(uint64_t id) {
  auto it = by_id_.find(id);
  if (it != by_id_.end() && !it->second->restored) remove(id);
}

void ServerStatements::clear() {
  lru_.clear();
  by_id_.clear();
}

void ServerStatements::on_server_message(char type, std::span<const uint8_t> body) {
  if (type == 'C') {
    std::string_view tag(reinterpret_cast<const char*>(body.data()), body.size());
    on_command_complete(tag.substr(0, tag.find('\0')));
  } else if (type == 'E') {
    on_error();
  } else if (type == 'Z') {
    on_ready(body.empty() ? 'I' : char(body[0]));
  }
}

void ServerStatements::on_command_complete(std::string_view tag) {
  if (tag.starts_with("DROP ") || tag.starts_with("ALTER ")) {
    tx_ddl_ = TxDdl::Changed;
    raise_epoch();
  } else if (tag.starts_with("CREATE ")) {
    if (tx_ddl_ == TxDdl::None) tx_ddl_ = TxDdl::Created;
  } else if (tag == "ROLLBACK" && tx_ddl_ != TxDdl::None) {
    // ROLLBACK or ROLLBACK TO SAVEPOINT (the tag is the same): what the transaction created may be
    // gone now, while it is still open for the latter.
    tx_failed_ = true;
    raise_epoch();
  }
}

void ServerStatements::on_ready(char tx_status) {
  if (tx_status != 'I') return;
  if (tx_ddl_ == TxDdl::Changed || (tx_ddl_ == TxDdl::Created && tx_failed_)) raise_epoch();
  tx_ddl_ = TxDdl::None;
  tx_failed_ = false;
}

}  // namespace pgopt::pooler::prepared
