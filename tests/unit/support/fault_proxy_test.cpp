// FaultProxy against an echo server of its own: each fault does what chaos tests rely on, and the
// proxy goes back to forwarding when the fault is lifted.
#include "support/fault_proxy.hpp"
#include "support/wait.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <functional>
#include <list>
#include <thread>

namespace pgopt::test {
namespace {

using namespace std::chrono_literals;

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// Echoes every byte back; closes its side when the client's FIN arrives. Counts connections that ended.
class EchoServer {
 public:
  EchoServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = loopback(0);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 64);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    acceptor_ = std::thread([this] {
      while (true) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;  // shutdown() below
        workers_.emplace_back([this, c] {
          char buf[8192];
          for (ssize_t n; (n = ::recv(c, buf, sizeof buf, 0)) > 0;)
            for (ssize_t off = 0; off < n;) {
              ssize_t w = ::send(c, buf + off, size_t(n - off), MSG_NOSIGNAL);
              if (w <= 0) break;
              off += w;
            }
          ::close(c);
          ++ended;
        });
      }
    });
  }
  ~EchoServer() {
    ::shutdown(fd_, SHUT_RDWR);
    acceptor_.join();
    for (auto& t : workers_) t.join();
    ::close(fd_);
  }
  int port = 0;
  std::atomic<int> ended{0};

 private:
  int fd_ = -1;
  std::thread acceptor_;
  std::list<std::thread> workers_;
};

int dial(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = loopback(port);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return fd;
}

void send_all(int fd, const std::string& s) {
  for (size_t off = 0; off < s.size();) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    ASSERT_GT(n, 0) << errno;
    off += size_t(n);
  }
}

// What arrives within `patience` (up to `want` bytes); `end` gets 0 on EOF, errno on an error, -1 if open.
std::string receive(int fd, size_t want, std::chrono::milliseconds patience, int* end = nullptr) {
  std::string out;
  if (end) *end = -1;
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (out.size() < want) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, int(left.count())) <= 0) continue;
    char buf[65536];
    ssize_t n = ::recv(fd, buf, std::min(sizeof buf, want - out.size()), 0);
    if (n <= 0) {
      if (end) *end = n == 0 ? 0 : errno;
      break;
    }
    out.append(buf, size_t(n));
  }
  return out;
}

bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds patience = 5s) {
  return poll_until(cond, patience, 5ms);
}

TEST(FaultProxy, ForwardsBothWaysAndPassesAHalfClose) {
  EchoServer echo;
  FaultProxy proxy(echo.port);
  int fd = dial(proxy.port());
  std::string data;
  for (int i = 0; i < 300000; ++i) data.push_back(char('a' + i % 26));
  std::thread writer([&] { send_all(fd, data); });
  EXPECT_EQ(receive(fd, data.size(), 10s), data);
  writer.join();
  // The proxy counts a chunk after its send returns, so the client can hold the last bytes before
  // they are counted (CI saw 290,789 of 300,000): wait for the count, it is not racing anything else.
  EXPECT_TRUE(eventually([&] { return proxy.bytes_up() == data.size() && proxy.bytes_down() == data.size(); }))
      << proxy.bytes_up() << " up, " << proxy.bytes_down() << " down";
  EXPECT_EQ(proxy.open_connections(), 1);
  // Our FIN reaches the server, whose FIN comes back.
  ::shutdown(fd, SHUT_WR);
  int end = 1;
  EXPECT_EQ(receive(fd, 1, 5s, &end), "");
  EXPECT_EQ(end, 0);
  EXPECT_TRUE(eventually([&] { return proxy.open_connections() == 0 && echo.ended == 1; }));
  ::close(fd);
}

TEST(FaultProxy, StallHoldsBytesUntilLifted) {
  EchoServer echo;
  FaultProxy proxy(echo.port);
  int fd = dial(proxy.port());
  send_all(fd, "ping");
  ASSERT_EQ(receive(fd, 4, 5s), "ping");
  proxy.set(Fault::Stall);
  send_all(fd, "held");
  int end = 1;
  EXPECT_EQ(receive(fd, 4, 300ms, &end), "");  // nothing moves, and the connection stays open
  EXPECT_EQ(end, -1);
  EXPECT_EQ(proxy.bytes_up(), 4u);
  proxy.set(Fault::None);
  EXPECT_EQ(receive(fd, 4, 5s), "held");
  ::close(fd);
}

TEST(FaultProxy, BlackholeDropsBytesAndNeverCloses) {
  EchoServer echo;
  FaultProxy proxy(echo.port);
  int fd = dial(proxy.port());
  proxy.set(Fault::Blackhole);
  send_all(fd, "lost");
  ::shutdown(fd, SHUT_WR);  // not even a FIN gets through
  int end = 1;
  EXPECT_EQ(receive(fd, 4, 300ms, &end), "");
  EXPECT_EQ(end, -1);
  EXPECT_EQ(proxy.bytes_up(), 0u);
  EXPECT_EQ(echo.ended, 0);
  // Lifted: the held-back FIN goes on, the discarded bytes never do.
  proxy.set(Fault::None);
  EXPECT_EQ(receive(fd, 4, 5s, &end), "");
  EXPECT_EQ(end, 0);
  EXPECT_EQ(proxy.bytes_up(), 0u);
  ::close(fd);
}

TEST(FaultProxy, TrickleSendsOneByteAtATime) {
  EchoServer echo;
  FaultProxy proxy(echo.port, 20ms);
  int fd = dial(proxy.port());
  proxy.set(Fault::Trickle);
  const auto t0 = std::chrono::steady_clock::now();
  send_all(fd, "0123456789abcdef");
  EXPECT_EQ(receive(fd, 16, 10s), "0123456789abcdef");
  // 16 bytes, each one interval after the previous one, on the way up.
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 15 * 20ms);
  ::close(fd);
}

TEST(FaultProxy, CloseEndsOpenAndNewConnectionsWithFin) {
  EchoServer echo;
  FaultProxy proxy(echo.port);
  int fd = dial(proxy.port());
  send_all(fd, "x");
  ASSERT_EQ(receive(fd, 1, 5s), "x");
  proxy.set(Fault::Close);
  int end = 1;
  EXPECT_EQ(receive(fd, 1, 5s, &end), "");
  EXPECT_EQ(end, 0);
  EXPECT_TRUE(eventually([&] { return echo.ended == 1; }));  // the server saw its end too
  int fd2 = dial(proxy.port());
  EXPECT_EQ(receive(fd2, 1, 5s, &end), "");
  EXPECT_EQ(end, 0);
  EXPECT_TRUE(eventually([&] { return proxy.open_connections() == 0; }));
  proxy.set(Fault::None);
  int fd3 = dial(proxy.port());
  send_all(fd3, "back");
  EXPECT_EQ(receive(fd3, 4, 5s), "back");
  for (int f : {fd, fd2, fd3}) ::close(f);
}

TEST(FaultProxy, ResetEndsOpenAndNewConnectionsWithRst) {
  EchoServer echo;
  FaultProxy proxy(echo.port);
  int fd = dial(proxy.port());
  send_all(fd, "x");
  ASSERT_EQ(receive(fd, 1, 5s), "x");
  proxy.set(Fault::Reset);
  int end = 1;
  EXPECT_EQ(receive(fd, 1, 5s, &end), "");
  EXPECT_EQ(end, ECONNRESET);
  int fd2 = dial(proxy.port());
  EXPECT_EQ(receive(fd2, 1, 5s, &end), "");
  EXPECT_EQ(end, ECONNRESET);
  EXPECT_TRUE(eventually([&] { return proxy.open_connections() == 0 && echo.ended == 1; }));
  for (int f : {fd, fd2}) ::close(f);
}

TEST(FaultProxy, ARefusedUpstreamResetsTheClient) {
  int port;
  {
    EchoServer gone;
    port = gone.port;
  }
  FaultProxy proxy(port);
  int fd = dial(proxy.port());
  int end = 1;
  EXPECT_EQ(receive(fd, 1, 5s, &end), "");
  EXPECT_EQ(end, ECONNRESET);
  ::close(fd);
}

}  // namespace
}  // namespace pgopt::test
