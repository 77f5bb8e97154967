// The fault-injecting TCP proxy for tests: a blocking-socket relay, one thread per connection.
#include "fault_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <string>

namespace pgopt::test {

namespace {

constexpr size_t kPending = 64 * 1024;  // bytes held per direction before the proxy stops reading

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// Closes with RST instead of FIN: SO_LINGER on with a zero timeout.
void reset_close(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

void drain(int efd) {
  uint64_t v;
  while (::read(efd, &v, sizeof v) > 0) {
  }
}

void poke(int efd) {
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(efd, &one, sizeof one);
}

}  // namespace

const char* name_of(Fault f) {
  switch (f) {
    case Fault::None: return "none";
    case Fault::Stall: return "stall";
    case Fault::Blackhole: return "blackhole";
    case Fault::Trickle: return "trickle";
    case Fault::Close: return "close";
    case Fault::Reset: return "reset";
  }
  return "?";
}

struct FaultProxy::Link {
  int client = -1;
  int wake = -1;
  ~Link() {
    if (wake >= 0) ::close(wake);
  }
};

FaultProxy::FaultProxy(int upstream_port, std::chrono::milliseconds trickle_interval)
    : upstream_port_(upstream_port), trickle_(trickle_interval) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = loopback(0);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 256) != 0)
    throw std::runtime_error("fault proxy: cannot listen: " + std::to_string(errno));
  socklen_t len = sizeof a;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  acceptor_ = std::thread([this] { accept_loop(); });
}

FaultProxy::~FaultProxy() { stop(); }

void FaultProxy::set(Fault f) {
  fault_.store(f);
  wake_all();
}

void FaultProxy::wake_all() {
  std::lock_guard lk(mu_);
  for (auto it = links_.begin(); it != links_.end();) {
    if (auto l = it->lock()) {
      poke(l->wake);
      ++it;
    } else {
      it = links_.erase(it);
    }
  }
}

void FaultProxy::stop() {
  if (stopping_.exchange(true)) return;
  poke(wake_fd_);
  if (acceptor_.joinable()) acceptor_.join();
  wake_all();
  std::list<std::thread> threads;
  {
    std::lock_guard lk(mu_);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
  ::close(listen_fd_);
  ::close(wake_fd_);
}

void FaultProxy::accept_loop() {
  while (!stopping_.load()) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) continue;
    if (stopping_.load()) return;
    if (!(p[0].revents & POLLIN)) continue;
    int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    ++accepted_;
    auto link = std::make_shared<Link>();
    link->client = c;
    link->wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ++open_;
    std::lock_guard lk(mu_);
    links_.push_back(link);
    threads_.emplace_back([this, link] { serve(link); });
  }
}

// One connection, both directions. Pending bytes wait in `up` (client to server) and `down`.
void FaultProxy::serve(std::shared_ptr<Link> link) {
  const int c = link->client;
  auto finish = [&](bool rst, int s) {
    if (rst) {
      reset_close(c);
      if (s >= 0) reset_close(s);
    } else {
      ::close(c);
      if (s >= 0) ::close(s);
    }
    --open_;
  };
  Fault f = fault_.load();
  if (f == Fault::Close || f == Fault::Reset) return finish(f == Fault::Reset, -1);
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = loopback(upstream_port_);
  if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return finish(true, s);
  int one = 1;
  ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  struct Direction {
    int from, to;
    std::atomic<uint64_t>& counter;
    std::string pending;
    bool eof = false;       // `from` sent FIN
    bool shut = false;      // FIN passed on to `to`
    std::chrono::steady_clock::time_point next_byte{};  // Trickle: when the next byte may go
  };
  Direction dirs[2] = {{c, s, up_, {}}, {s, c, down_, {}}};
  while (true) {
    f = fault_.load();
    if (stopping_.load() || f == Fault::Close || f == Fault::Reset) return finish(f == Fault::Reset, s);
    const bool forward = f == Fault::None || f == Fault::Trickle;
    // A FIN goes on once everything before it did; a half-open link never passes it on.
    for (Direction& dir : dirs) {
      if (dir.eof && dir.pending.empty() && !dir.shut && forward) {
        ::shutdown(dir.to, SHUT_WR);
        dir.shut = true;
      }
    }
    if (dirs[0].shut && dirs[1].shut) return finish(false, s);
    const auto now = std::chrono::steady_clock::now();
    int timeout = -1;
    pollfd p[5];
    int n = 0;
    int read_at[2] = {-1, -1}, write_at[2] = {-1, -1};
    for (int d = 0; d < 2; ++d) {
      Direction& dir = dirs[d];
      const bool reading = !dir.eof && (f == Fault::Blackhole || (forward && dir.pending.size() < kPending));
      if (reading) {
        read_at[d] = n;
        p[n++] = {dir.from, POLLIN, 0};
      }
      if (forward && !dir.pending.empty()) {
        if (f == Fault::Trickle && now < dir.next_byte) {
          const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(dir.next_byte - now).count() + 1;
          timeout = timeout < 0 ? int(wait) : std::min(timeout, int(wait));
        } else {
          write_at[d] = n;
          p[n++] = {dir.to, POLLOUT, 0};
        }
      }
    }
    const int wake_at = n;
    p[n++] = {link->wake, POLLIN, 0};
    if (::poll(p, nfds_t(n), timeout) < 0) continue;
    if (p[wake_at].revents) drain(link->wake);
    if (fault_.load() != f) continue;  // switched while polling: no byte moves under the old fault
    for (int d = 0; d < 2; ++d) {
      Direction& dir = dirs[d];
      if (read_at[d] >= 0 && p[read_at[d]].revents) {
        char buf[16 * 1024];
        const ssize_t got = ::recv(dir.from, buf, sizeof buf, MSG_DONTWAIT);
        if (got < 0 && errno != EAGAIN && errno != EINTR) {
          if (f != Fault::Blackhole) return finish(true, s);  // RST: pass it on
          dir.eof = true;  // a half-open link tells the other side nothing
        }
        if (got == 0) dir.eof = true;
        // Blackhole: what arrives is gone, as if the peer had vanished.
        if (got > 0 && f != Fault::Blackhole) dir.pending.append(buf, size_t(got));
      }
      if (write_at[d] >= 0 && p[write_at[d]].revents) {
        const size_t len = f == Fault::Trickle ? 1 : dir.pending.size();
        const ssize_t put = ::send(dir.to, dir.pending.data(), len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (put < 0 && errno != EAGAIN && errno != EINTR) return finish(true, s);
        if (put > 0) {
          dir.pending.erase(0, size_t(put));
          dir.counter += uint64_t(put);
          dir.next_byte = std::chrono::steady_clock::now() + trickle_;
        }
      }
    }
  }
}

}  // namespace pgopt::test
