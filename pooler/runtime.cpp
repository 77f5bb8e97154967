// State every connection shares: the cancel-key registry (the rest is plain data in runtime.hpp).
#include "pooler/runtime.hpp"

#include "pooler/auth/scram.hpp"

namespace pgopt::pooler {

protocol::CancelKey CancelRegistry::add(const std::shared_ptr<ClientSession>& c, uint64_t id) {
  // The "pid" is our client id (unique while the process lives); the secret is random, so a
  // cancel cannot be forged by guessing ids.
  std::string r = auth::random_bytes(4);
  int32_t secret;
  std::memcpy(&secret, r.data(), 4);
  protocol::CancelKey key{int32_t(id & 0x7fffffff), secret};
  std::lock_guard lk(mu_);
  by_pid_[key.pid] = {key.secret, c};
  return key;
}

void CancelRegistry::remove(const protocol::CancelKey& k) {
  std::lock_guard lk(mu_);
  auto it = by_pid_.find(k.pid);
  if (it != by_pid_.end() && it->second.first == k.secret) by_pid_.erase(it);
}

std::shared_ptr<ClientSession> CancelRegistry::find(const protocol::CancelKey& k) {
  std::lock_guard lk(mu_);
  auto it = by_pid_.find(k.pid);
  if (it == by_pid_.end() || it->second.first != k.secret) return nullptr;
  return it->second.second.lock();
}

ServerCredentials server_credentials(const Runtime& rt, Pool& pool) {
  ServerCredentials creds;
  creds.user = pool.user;
  auto users = rt.users();
  const auth::UserEntry* e = users ? users->find(pool.user) : nullptr;
  if (!e) return creds;  // trust on the server side, or a clear auth error from it
  switch (e->kind) {
    case auth::SecretKind::Plain: creds.password = e->secret; break;
    case auth::SecretKind::Md5: creds.md5_hash = e->secret; break;
    case auth::SecretKind::Scram:
      creds.scram_client_key = pool.scram_client_key();
      creds.scram_server_key = e->scram->server_key;
      break;
  }
  return creds;
}

ServerTarget server_target(const DatabaseConfig& db) {
  return ServerTarget{db.host, db.port, db.dbname.empty() ? db.name : db.dbname};
}

}  // namespace pgopt::pooler
