// The statements clients prepare, one shared server-side statement per (query text, parameter types).
#include "pooler/prepared/statement_registry.hpp"

#include "pooler/prepared/server_statements.hpp"
#include "pooler/routing/hints.hpp"

#include "pooler/protocol/codec.hpp"

namespace pgopt::pooler::prepared {
namespace {

std::string key_of(std::string_view query, std::span<const int32_t> types) {
  std::string key;
  key.reserve(query.size() + 4 * types.size() + 4);
  uint32_t n = uint32_t(types.size());
  key.append(reinterpret_cast<const char*>(&n), sizeof n);
  key.append(reinterpret_cast<const char*>(types.data()), types.size() * sizeof(int32_t));
  key.append(query);
  return key;
}

StatementPtr make(uint64_t id, std::string_view query, std::span<const int32_t> types) {
  auto s = std::make_shared<Statement>();
  s->id = id;
  s->server_name = "pgopt_" + std::to_string(id);
  s->query.assign(query);
  s->param_types.assign(types.begin(), types.end());
  // A routing hint stays in `query` (each execution is routed by it) but never reaches a server.
  routing::HintScan hints = routing::scan_hints(query);
  std::string blanked = hints.ranges.empty() ? std::string() : routing::blank_hints(query, hints);
  protocol::Writer w(s->parse_message);
  w.begin('P').cstr(s->server_name).cstr(hints.ranges.empty() ? std::string_view(s->query) : blanked)
      .i16(int16_t(types.size()));
  for (int32_t t : types) w.i32(t);
  w.end();
  return s;
}

// SQL-level keys cannot collide with protocol-level ones: those start with a parameter count.
constexpr std::string_view kSqlKeyTag{"\xff\xff\xff\xff", 4};

}  // namespace

StatementPtr StatementRegistry::intern(std::string_view query, std::span<const int32_t> types) {
  return intern_key(key_of(query, types), query, types, {}, {});
}

StatementPtr StatementRegistry::intern_sql(std::string_view before_name, std::string_view after_name) {
  std::string key(kSqlKeyTag);
  key.append(before_name).push_back('\0');
  key.append(after_name);
  return intern_key(std::move(key), {}, {}, before_name, after_name);
}

StatementPtr StatementRegistry::intern_key(std::string key, std::string_view query, std::span<const int32_t> types,
                                           std::string_view before_name, std::string_view after_name) {
  std::lock_guard lock(mu_);
  auto& slot = by_key_[key];
  if (auto s = slot.lock(); s && !s->stale.load(std::memory_order_relaxed)) return s;
  uint64_t id = next_id_++;
  StatementPtr s;
  if (before_name.empty() && after_name.empty()) {
    s = make(id, query, types);
  } else {
    s = std::make_shared<Statement>();
    s->id = id;
    s->server_name = "pgopt_" + std::to_string(id);
    s->query = std::string(before_name) + std::string(after_name);  // identifies it in logs only
    s->prepare_sql = std::string(before_name) + s->server_name + std::string(after_name);
    s->sql_before.assign(before_name);
    s->sql_after.assign(after_name);
  }
  slot = s;
  if (by_key_.size() >= sweep_at_) {
    std::erase_if(by_key_, [](const auto& kv) { return kv.second.expired(); });
    sweep_at_ = std::max<size_t>(1024, by_key_.size() * 2);
  }
  return s;
}

StatementPtr StatementRegistry::refresh(const StatementPtr& old) {
  old->stale.store(true, std::memory_order_relaxed);
  if (!old->prepare_sql.empty()) return intern_sql(old->sql_before, old->sql_after);
  return intern(old->query, old->param_types);
}

std::shared_ptr<SchemaEpoch> StatementRegistry::schema_epoch(std::string_view database) {
  std::lock_guard lock(mu_);
  auto& e = epochs_[std::string(database)];
  if (!e) e = std::make_shared<SchemaEpoch>();
  return e;
}

size_t StatementRegistry::size() {
  std::lock_guard lock(mu_);
  return by_key_.size();
}

}  // namespace pgopt::pooler::prepared
