// State every connection shares: the table of client sessions (the rest is plain data in runtime.hpp).
#include "pooler/runtime.hpp"

#include "pooler/auth/scram.hpp"
#include "pooler/client_session.hpp"

namespace pgopt::pooler {

protocol::CancelKey ClientTable::add(ClientSession* c, int worker) {
  std::string r = auth::random_bytes(4);
  int32_t secret;
  std::memcpy(&secret, r.data(), 4);
  std::lock_guard lk(mu_);
  int32_t index = free_;
  if (index >= 0) {
    free_ = slot(size_t(index)).secret;
  } else {
    if (size_ % kChunk == 0) chunks_.push_back(std::make_unique<Slot[]>(kChunk));
    index = int32_t(size_++);
  }
  slot(size_t(index)) = {c, secret, worker};
  return {index + 1, secret};  // a pid of 0 could look unset to a driver
}

void ClientTable::remove(const protocol::CancelKey& k) {
  std::lock_guard lk(mu_);
  const int32_t index = k.pid - 1;
  if (index < 0 || size_t(index) >= size_ || !slot(size_t(index)).session) return;
  slot(size_t(index)) = {nullptr, free_, 0};
  free_ = index;
}

// A session whose last reference is gone may still be in its slot until its destructor gets here;
// lock() sees that and yields nothing.
std::shared_ptr<ClientSession> ClientTable::find(const protocol::CancelKey& k) {
  std::lock_guard lk(mu_);
  const int32_t index = k.pid - 1;
  if (index < 0 || size_t(index) >= size_) return nullptr;
  const Slot& s = slot(size_t(index));
  if (!s.session || s.secret != k.secret) return nullptr;
  return s.session->weak_from_this().lock();
}

std::vector<std::shared_ptr<ClientSession>> ClientTable::on_worker(int worker) {
  std::vector<std::shared_ptr<ClientSession>> out;
  std::lock_guard lk(mu_);
  for (size_t i = 0; i < size_; ++i)
    if (const Slot& s = slot(i); s.session && s.worker == worker)
      if (auto c = s.session->weak_from_this().lock()) out.push_back(std::move(c));
  return out;
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
    case auth::SecretKind::None: break;  // the server must trust this user too
  }
  return creds;
}

ServerTarget server_target(const DatabaseConfig& db) {
  return ServerTarget{db.host, db.port, db.dbname.empty() ? db.name : db.dbname};
}

}  // namespace pgopt::pooler
