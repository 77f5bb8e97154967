// Online takeover: the old process's Handover and the new process's Takeover (takeover.hpp).
#include "pooler/takeover.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "pooler/client_session.hpp"
#include "pooler/fleet/fd_channel.hpp"
#include "pooler/fleet/takeover_state.hpp"
#include "pooler/log.hpp"
#include "pooler/slab.hpp"
#include "pooler/spawn.hpp"

namespace pgopt::pooler {

namespace {

std::string u64_bytes(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = char(v >> (8 * i));
  return s;
}

uint64_t u64_of(std::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < s.size(); ++i) v |= uint64_t(uint8_t(s[i])) << (8 * i);
  return v;
}

}  // namespace

// ---- the old process ----------------------------------------------------------------------------

Handover::~Handover() {
  if (peer_fd_ >= 0) ::close(peer_fd_);
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    ::unlink(path_.c_str());
  }
}

bool Handover::open(std::string& error) {
  listen_fd_ = fleet::listen_unix(path_, error);
  if (listen_fd_ < 0) error = "handover socket " + path_ + ": " + error;
  return listen_fd_ >= 0;
}

awaitable<bool> Handover::wait_for_successor(asio::io_context& main, const std::vector<int>& listeners,
                                             ClientTable& table) {
  asio::posix::stream_descriptor watch(main, ::dup(listen_fd_));
  for (;;) {
    auto [ec] = co_await watch.async_wait(asio::posix::descriptor_base::wait_read, nothrow);
    if (ec) co_return false;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) continue;
      log::error("handover socket {}: accept: {}", path_, std::strerror(errno));
      co_return false;
    }
    // Sends block (bounded by SO_SNDTIMEO in send_message): the successor reads all the time.
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    std::string error;
    // Read now, not when the process started: every slot a client may hold is below it.
    if (!fleet::send_message(fd, kTakeoverListeners, u64_bytes(table.slots()), listeners, error)) {
      log::warn("handover socket {}: a successor connected but did not take the listeners: {}", path_, error);
      ::close(fd);
      continue;
    }
    peer_fd_ = fd;
    // One successor only: the path is free for it to offer a handover of its own later.
    ::close(listen_fd_);
    listen_fd_ = -1;
    ::unlink(path_.c_str());
    log::info("takeover: a new process has the listening sockets; idle clients move to it, the others drain");
    co_return true;
  }
}

bool Handover::send_client(const fleet::MovedClient& c, int fd) {
  std::string error;
  std::lock_guard lk(send_mu_);
  if (peer_fd_ < 0) return false;
  const int fds[] = {fd};
  if (!fleet::send_message(peer_fd_, kTakeoverClient, fleet::encode(c), fds, error)) {
    log::warn("C-{} not handed over: {}", c.id, error);
    return false;
  }
  ++moved_;
  return true;
}

void Handover::finish() {
  std::string error;
  std::lock_guard lk(send_mu_);
  if (peer_fd_ < 0) return;
  if (!fleet::send_message(peer_fd_, kTakeoverEnd, {}, {}, error)) log::warn("takeover: end not sent: {}", error);
  ::close(peer_fd_);
  peer_fd_ = -1;
  log::info("takeover: {} client(s) handed over", moved_.load());
}

// ---- the new process ----------------------------------------------------------------------------

Takeover::~Takeover() {
  if (fd_ >= 0) ::close(fd_);
}

bool Takeover::take_listeners(std::vector<int>& listeners, std::string& error) {
  fd_ = fleet::connect_unix(path_, error);
  if (fd_ < 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, 10'000) != 1) {
    error = "the old process did not send its listening sockets within 10 s";
    return false;
  }
  fleet::FdMessage m;
  if (fleet::receive_message(fd_, m, error) != fleet::Received::Message || m.kind != kTakeoverListeners ||
      m.fds.empty()) {
    for (int fd : m.fds) ::close(fd);
    if (error.empty()) error = "the old process sent no listening sockets";
    return false;
  }
  listeners = m.fds;
  slots_ = u64_of(m.payload);
  return true;
}

awaitable<void> Takeover::receive_clients(Runtime& rt) {
  rt.client_table.reserve(slots_);
  asio::posix::stream_descriptor watch(co_await asio::this_coro::executor, ::dup(fd_));
  size_t next_worker = 0, adopted = 0;
  for (bool open = true; open;) {
    auto [ec] = co_await watch.async_wait(asio::posix::descriptor_base::wait_read, nothrow);
    if (ec) break;
    for (;;) {
      fleet::FdMessage m;
      std::string error;
      const auto r = fleet::receive_message(fd_, m, error);
      if (r == fleet::Received::WouldBlock) break;
      if (r != fleet::Received::Message || m.kind == kTakeoverEnd) {
        if (r == fleet::Received::Error) log::warn("takeover: {}", error);
        for (int fd : m.fds) ::close(fd);
        open = false;
        break;
      }
      auto moved = fleet::decode_moved_client({reinterpret_cast<const uint8_t*>(m.payload.data()), m.payload.size()});
      if (m.kind != kTakeoverClient || !moved || m.fds.size() != 1) {
        log::warn("takeover: a client message this process cannot read (closed; the client reconnects)");
        for (int fd : m.fds) ::close(fd);
        continue;
      }
      adopt(rt, std::move(*moved), m.fds[0], next_worker);
      ++adopted;
    }
  }
  // Slots of clients that drained on the old process are free for new clients now.
  rt.client_table.release_reserved();
  ::close(fd_);
  fd_ = -1;
  log::info("takeover: complete, {} client(s) received", adopted);
}

void Takeover::adopt(Runtime& rt, fleet::MovedClient moved, int fd, size_t& next_worker) {
  Worker& w = *rt.workers[next_worker++ % rt.workers.size()];
  const uint64_t id = rt.next_client_id.fetch_add(1, std::memory_order_relaxed);
  // Made here, so that its slot is claimed before release_reserved() runs on this thread.
  auto session = std::allocate_shared<ClientSession>(SlabAllocator<ClientSession>(), rt, w, fd, id,
                                                     protocol::CancelKey{moved.cancel_pid, moved.cancel_secret});
  asio::post(w.ctx, [session = std::move(session), moved = std::move(moved)] { session->adopt(moved); });
}

}  // namespace pgopt::pooler
