// State every connection shares: the table of client sessions (the rest is plain data in runtime.hpp).
#include "pooler/runtime.hpp"

#include "pooler/auth/scram.hpp"
#include "pooler/client_session.hpp"
#include "pooler/fleet/peer_key.hpp"

namespace pgopt::pooler {

protocol::CancelKey ClientTable::add(ClientSession* c, int worker) {
  std::string r = auth::random_bytes(4);
  uint32_t random;
  std::memcpy(&random, r.data(), 4);
  const int32_t secret = fleet::stamp_secret(random, peer_id_);
  std::lock_guard lk(mu_);
  int32_t index = free_;
  uint16_t generation = 0;
  if (index >= 0) {
    Slot& s = slot(size_t(index));
    free_ = s.secret;
    if (free_ < 0) free_tail_ = -1;
    generation = uint16_t((s.generation + 1) & 0x7ff);
  } else if (size_ < size_t(kMaxSlots)) {
    if (size_ % kChunk == 0) chunks_.push_back(std::make_unique<Slot[]>(kChunk));
    index = int32_t(size_++);
  } else {
    return {0, secret};  // more sessions than pids: no cancel key (the limit check closes it)
  }
  slot(size_t(index)) = {c, secret, uint16_t(worker), generation};
  return {pid_of(index, generation), secret};
}

void ClientTable::reserve(size_t slots) {
  std::lock_guard lk(mu_);
  while (size_ < std::min(slots, size_t(kMaxSlots))) {
    if (size_ % kChunk == 0) chunks_.push_back(std::make_unique<Slot[]>(kChunk));
    slot(size_++) = {nullptr, kReserved, 0, 0};
  }
}

bool ClientTable::claim(const protocol::CancelKey& k, ClientSession* c, int worker) {
  const int32_t index = slot_of(k.pid);
  if (k.pid <= 0 || index < 0) return false;
  std::lock_guard lk(mu_);
  if (size_t(index) >= size_ || slot(size_t(index)).secret != kReserved) return false;
  slot(size_t(index)) = {c, k.secret, uint16_t(worker), uint16_t(uint32_t(k.pid) >> kSlotBits & 0x7ff)};
  return true;
}

void ClientTable::release_reserved() {
  std::lock_guard lk(mu_);
  for (size_t i = 0; i < size_; ++i) {
    Slot& s = slot(i);
    if (s.session || s.secret != kReserved) continue;
    s.secret = -1;
    if (free_tail_ >= 0)
      slot(size_t(free_tail_)).secret = int32_t(i);
    else
      free_ = int32_t(i);
    free_tail_ = int32_t(i);
  }
}

size_t ClientTable::slots() {
  std::lock_guard lk(mu_);
  return size_;
}

void ClientTable::remove(const protocol::CancelKey& k) {
  std::lock_guard lk(mu_);
  const int32_t index = slot_of(k.pid);
  if (k.pid <= 0 || size_t(index) >= size_) return;
  Slot& s = slot(size_t(index));
  if (!s.session || pid_of(index, s.generation) != k.pid) return;
  s = {nullptr, -1, 0, s.generation};
  if (free_tail_ >= 0)
    slot(size_t(free_tail_)).secret = index;
  else
    free_ = index;
  free_tail_ = index;
}

// A session whose last reference is gone may still be in its slot until its destructor gets here;
// lock() sees that and yields nothing.
std::shared_ptr<ClientSession> ClientTable::find(const protocol::CancelKey& k) {
  std::lock_guard lk(mu_);
  const int32_t index = slot_of(k.pid);
  if (k.pid <= 0 || size_t(index) >= size_) return nullptr;
  const Slot& s = slot(size_t(index));
  if (!s.session || s.secret != k.secret || pid_of(index, s.generation) != k.pid) return nullptr;
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

namespace {
std::atomic<uint64_t> last_config_generation{0};
}  // namespace

std::shared_ptr<const Config> Runtime::config() const {
  struct Cached {
    uint64_t generation = 0;
    std::shared_ptr<const Config> config;
  };
  thread_local Cached cached;
  const uint64_t g = config_generation_.load(std::memory_order_acquire);
  if (g == 0) return config_.load();
  // Stored before its generation (set_config): a snapshot read after seeing g is g's or newer, and
  // a newer one only means the next call reads again.
  if (cached.generation != g) {
    cached.config = config_.load();
    cached.generation = g;
  }
  return cached.config;
}

void Runtime::set_config(std::shared_ptr<const Config> c) {
  config_.store(std::move(c));
  config_generation_.store(last_config_generation.fetch_add(1) + 1, std::memory_order_release);
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
