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

}  // namespace pgopt::pooler
