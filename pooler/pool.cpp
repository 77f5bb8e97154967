// Server pools per (database, user): limits, idle connections and waiting clients across all workers.
#include "pooler/pool.hpp"

#include <algorithm>

#include "pooler/session/invariant.hpp"

namespace pgopt::pooler {

bool DatabaseGroup::try_reserve(int limit) {
  std::lock_guard lk(mu_);
  if (limit > 0 && open_ >= limit) return false;
  ++open_;
  return true;
}
void DatabaseGroup::unreserve() {
  std::lock_guard lk(mu_);
  --open_;
}
int DatabaseGroup::open() const {
  std::lock_guard lk(mu_);
  return open_;
}
void DatabaseGroup::add(Pool* p) {
  std::lock_guard lk(mu_);
  pools_.push_back(p);
}
std::vector<Pool*> DatabaseGroup::pools() {
  std::lock_guard lk(mu_);
  return pools_;
}

Pool::Pool(std::string db, std::string u, std::string n, int workers, DatabaseGroup* group)
    : database(std::move(db)), user(std::move(u)), node(std::move(n)), group_(group), idle_(size_t(workers)) {}

ServerPtr Pool::pop_idle(int worker) {
  auto& mine = idle_[size_t(worker)];
  if (!mine.empty()) {
    auto s = std::move(mine.back());
    mine.pop_back();
    return s;
  }
  for (auto& other : idle_) {
    if (!other.empty()) {
      auto s = std::move(other.back());
      other.pop_back();
      return s;
    }
  }
  return nullptr;
}

namespace {
Pool::Acquired ready(ServerPtr s) {
  Pool::Acquired a;
  a.server = std::move(s);
  return a;
}
Pool::Acquired failed(std::string error, std::string sqlstate) {
  Pool::Acquired a;
  a.error = std::move(error);
  a.sqlstate = std::move(sqlstate);
  return a;
}
}  // namespace

void Pool::wake(const WaiterPtr& w) {
  // The waiter's timer belongs to its own io_context; cancel it there. The shared_ptr keeps the
  // waiter alive even if its coroutine has already left because the timeout fired at the same time.
  asio::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
}

bool Pool::usable(const ServerPtr& s, const asio::any_io_executor& exec, int worker, const PoolLimits& limits) {
  if (Clock::now() - s->last_used > limits.check_delay && !s->idle_healthy()) {
    discard(s);
    return false;
  }
  s->rebind(exec, worker);
  return true;
}

void Pool::WaitTicket::give_up() {
  auto w = waiter_.lock();
  if (!w || !pool_) return;
  std::lock_guard lk(pool_->mu_);
  if (w->granted || !w->error.empty() || w->gave_up) return;  // too late: the caller gives back what it got
  w->gave_up = true;
  std::erase(pool_->waiters_, w);
  pool_->wake(w);
}

Pool::Now Pool::take_now(std::unique_lock<std::mutex>& lk, int worker, const asio::any_io_executor& exec,
                         const PoolLimits& limits, Acquired& out) {
  if (ServerPtr s = pop_idle(worker)) {
    lk.unlock();
    if (!usable(s, exec, worker, limits)) return Now::Retry;
    out = ready(std::move(s));
    return Now::Got;
  }
  if (total_ < limits.pool_size && group_->try_reserve(limits.max_db_connections)) {
    ++total_;
    lk.unlock();
    out.slot = SlotLease(this);
    return Now::Got;
  }
  return Now::Wait;
}

ServerPtr Pool::try_take_idle(int worker, const asio::any_io_executor& exec, const PoolLimits& limits) {
  for (;;) {
    std::unique_lock lk(mu_);
    ServerPtr s = pop_idle(worker);
    lk.unlock();
    if (!s) return nullptr;
    if (usable(s, exec, worker, limits)) return s;
  }
}

std::optional<Pool::Acquired> Pool::try_acquire(int worker, const asio::any_io_executor& exec,
                                                const PoolLimits& limits) {
  for (;;) {
    std::unique_lock lk(mu_);
    Acquired a;
    switch (take_now(lk, worker, exec, limits, a)) {
      case Now::Got:
        return a;
      case Now::Retry:
        continue;
      case Now::Wait:
        return std::nullopt;
    }
  }
}

awaitable<Pool::Acquired> Pool::acquire(int worker, std::chrono::milliseconds wait_timeout, const PoolLimits& limits,
                                        WaitTicket* ticket) {
  auto exec = co_await asio::this_coro::executor;
  bool waited = false;
  for (;;) {
    WaiterPtr w;
    {
      std::unique_lock lk(mu_);
      Acquired a;
      const Now now = take_now(lk, worker, exec, limits, a);
      if (now == Now::Retry) continue;
      if (now == Now::Got) {
        a.waited = waited;
        co_return a;
      }
      // Still under the lock that found nothing: a release from now on finds this waiter.
      w = std::make_shared<Waiter>(exec, worker);
      if (wait_timeout.count() > 0)
        w->timer.expires_after(wait_timeout);
      else
        w->timer.expires_at(asio::steady_timer::time_point::max());
      waiters_.push_back(w);
    }
    if (ticket) {
      ticket->pool_ = this;
      ticket->waiter_ = w;
      if (ticket->on_queued) ticket->on_queued();
    }
    waited = true;
    co_await w->timer.async_wait(nothrow);
    if (ticket) {
      ticket->pool_ = nullptr;
      ticket->waiter_.reset();
    }
    std::unique_lock lk(mu_);
    if (w->granted) {
      ServerPtr s = std::move(w->granted);
      lk.unlock();
      if (!usable(s, exec, worker, limits)) continue;
      Acquired a = ready(std::move(s));
      a.waited = true;
      co_return a;
    }
    if (!w->error.empty()) co_return failed(w->error, w->sqlstate);
    if (w->gave_up) co_return failed("the client gave up waiting", "08006");
    if (w->retry) continue;
    std::erase(waiters_, w);
    co_return failed("no server connection became available within query_wait_timeout", "57014");
  }
}

bool Pool::code_reach_due(Clock::time_point now) const {
  const Clock::rep last = code_checked_.load(std::memory_order_relaxed);
  return last == 0 || now - Clock::time_point(Clock::duration(last)) > kCodeReachAge;
}

void Pool::set_code_reach(CodeReach r, Clock::time_point now) {
  code_checked_.store(now.time_since_epoch().count(), std::memory_order_relaxed);
  // A failed look keeps the last answer, if any, and is tried again at the next connection.
  if (r == CodeReach::Unknown) {
    code_checked_.store(0, std::memory_order_relaxed);
    return;
  }
  code_reach_.store(r, std::memory_order_relaxed);
}

void Pool::learn_custom_names(const std::vector<std::string>& names) {
  if (names.empty()) return;
  std::lock_guard lk(names_mu_);
  for (const auto& n : names) {
    if (custom_names_.size() >= kMaxCustomNames) return;
    if (std::find(custom_names_.begin(), custom_names_.end(), n) == custom_names_.end()) custom_names_.push_back(n);
  }
}

std::vector<std::string> Pool::custom_names() {
  std::lock_guard lk(names_mu_);
  return custom_names_;
}

void Pool::code_defined() {
  CodeReach r = code_reach_.load(std::memory_order_relaxed);
  while ((r == CodeReach::Unknown || r == CodeReach::None) &&
         !code_reach_.compare_exchange_weak(r, CodeReach::Writes, std::memory_order_relaxed)) {
  }
  code_checked_.store(0, std::memory_order_relaxed);  // look again soon: a view may call it now
}

std::vector<SlotLease> Pool::reserve_to_min(int min, const PoolLimits& limits) {
  int n = 0;
  {
    std::lock_guard lk(mu_);
    while (total_ < std::min(min, limits.pool_size) && group_->try_reserve(limits.max_db_connections)) {
      ++total_;
      ++n;
    }
  }
  // Made outside mu_: a lease dropped early frees its slot, which takes mu_.
  std::vector<SlotLease> out;
  out.reserve(size_t(n));
  for (int i = 0; i < n; ++i) out.emplace_back(this);
  return out;
}

void SlotLease::hand_over(ServerConn& s) {
  PGOPT_ASSERT(pool_ != nullptr);
  s.pool = std::exchange(pool_, nullptr);
}

void SlotLease::reset() {
  if (pool_) std::exchange(pool_, nullptr)->slot_freed();
}

void Pool::release(ServerPtr s) {
  s->last_used = Clock::now();
  std::unique_lock lk(mu_);
  if (!waiters_.empty()) {
    auto pick = pick_waiter(waiters_.begin(), waiters_.end(), s->worker, s->last_used);
    auto w = std::move(*pick);
    waiters_.erase(pick);
    w->granted = std::move(s);
    wake(w);
    return;
  }
  idle_[size_t(s->worker)].push_back(std::move(s));
}

bool Pool::wake_retry_one() {
  std::lock_guard lk(mu_);
  if (waiters_.empty()) return false;
  auto w = std::move(waiters_.front());
  waiters_.pop_front();
  w->retry = true;
  wake(w);
  return true;
}

void Pool::slot_freed() {
  {
    std::lock_guard lk(mu_);
    --total_;
  }
  group_->unreserve();
  // A freed slot may be what a waiter here, or in another pool of the database, was waiting for.
  if (wake_retry_one()) return;
  for (Pool* p : group_->pools())
    if (p != this && p->wake_retry_one()) return;
}

void Pool::discard(const ServerPtr& s) {
  s->close();
  slot_freed();
}

std::vector<ServerPtr> Pool::take_expired(int worker, Clock::time_point now, std::chrono::milliseconds idle_timeout,
                                          std::chrono::milliseconds lifetime, int keep_min) {
  std::vector<ServerPtr> out;
  std::lock_guard lk(mu_);
  auto& list = idle_[size_t(worker)];
  for (auto it = list.begin(); it != list.end();) {
    const auto& s = *it;
    bool idle_too_long = idle_timeout.count() > 0 && now - s->last_used > idle_timeout && total_ - int(out.size()) > keep_min;
    bool too_old = lifetime.count() > 0 && now - s->created > lifetime;
    if (idle_too_long || too_old || !s->idle_healthy()) {
      out.push_back(std::move(*it));
      it = list.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

std::vector<ServerPtr> Pool::take_all_idle() {
  std::vector<ServerPtr> out;
  std::lock_guard lk(mu_);
  for (auto& list : idle_) {
    for (auto& s : list) out.push_back(std::move(s));
    list.clear();
  }
  return out;
}

void Pool::fail_waiters(const std::string& sqlstate, const std::string& message) {
  std::lock_guard lk(mu_);
  for (auto& w : waiters_) {
    w->error = message;
    w->sqlstate = sqlstate;
    wake(w);
  }
  waiters_.clear();
}

std::optional<std::vector<std::pair<std::string, std::string>>> Pool::defaults() {
  std::lock_guard lk(mu_);
  return defaults_;
}
void Pool::set_defaults(std::vector<std::pair<std::string, std::string>> params) {
  std::lock_guard lk(mu_);
  if (!defaults_) defaults_ = std::move(params);
}
std::optional<auth::Key> Pool::scram_client_key() {
  std::lock_guard lk(mu_);
  return scram_client_key_;
}
void Pool::set_scram_client_key(const auth::Key& k) {
  std::lock_guard lk(mu_);
  scram_client_key_ = k;
}

Pool::Counts Pool::counts() {
  std::lock_guard lk(mu_);
  Counts c;
  c.total = total_;
  for (auto& l : idle_) c.idle += int(l.size());
  c.waiting = int(waiters_.size());
  const auto now = Clock::now();
  for (auto& w : waiters_)
    c.longest_wait = std::max(c.longest_wait, std::chrono::duration_cast<std::chrono::milliseconds>(now - w->since));
  return c;
}

std::vector<Pool::IdleServer> Pool::idle_servers() {
  std::lock_guard lk(mu_);
  std::vector<IdleServer> out;
  for (auto& l : idle_)
    for (auto& s : l)
      out.push_back({s->id, s->last_client, s->target.host, s->target.port, s->created, s->last_used,
                     s->statements.size(), s->statements.hits, s->statements.misses, s->statements.evictions});
  return out;
}

Pool& PoolRegistry::get(const std::string& database, const std::string& user, const std::string& node) {
  std::lock_guard lk(mu_);
  auto key = std::tuple{database, user, node};
  auto it = pools_.find(key);
  if (it != pools_.end()) return *it->second;
  auto& group = groups_[{database, node}];
  if (!group) group = std::make_unique<DatabaseGroup>();
  auto pool = std::make_unique<Pool>(database, user, node, workers_, group.get());
  group->add(pool.get());
  return *pools_.emplace(key, std::move(pool)).first->second;
}

std::vector<Pool*> PoolRegistry::all() {
  std::lock_guard lk(mu_);
  std::vector<Pool*> out;
  for (auto& [k, p] : pools_) out.push_back(p.get());
  return out;
}

}  // namespace pgopt::pooler
