#include "pooler/fleet/fd_channel.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pgopt::pooler::fleet {

namespace {

bool make_address(const std::string& path, sockaddr_un& a, std::string& error) {
  std::memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof a.sun_path) {
    error = "takeover socket path is empty or longer than " + std::to_string(sizeof a.sun_path - 1) + " bytes";
    return false;
  }
  std::memcpy(a.sun_path, path.data(), path.size());
  return true;
}

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

int listen_unix(const std::string& path, std::string& error) {
  sockaddr_un a;
  if (!make_address(path, a, error)) return -1;
  int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = errno_text("socket");
    return -1;
  }
  ::unlink(path.c_str());
  // Only this user may hand over or take over: the socket passes live client connections.
  const mode_t old = ::umask(0177);
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::umask(old);
  if (!bound || ::listen(fd, 4) != 0) {
    error = errno_text(bound ? "listen" : "bind");
    ::close(fd);
    return -1;
  }
  return fd;
}

int connect_unix(const std::string& path, std::string& error) {
  sockaddr_un a;
  if (!make_address(path, a, error)) return -1;
  int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = errno_text("socket");
    return -1;
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    error = errno_text(("connect to " + path).c_str());
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_message(int sock, char kind, std::string_view payload, std::span<const int> fds, std::string& error) {
  if (payload.size() + 1 > kMaxMessage || fds.size() > kMaxFds) {
    error = "message too large to hand over";
    return false;
  }
  std::string data(1, kind);
  data += payload;
  iovec iov{data.data(), data.size()};
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  if (!fds.empty()) {
    m.msg_control = control;
    m.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  timeval tv{2, 0};
  ::setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  for (;;) {
    const ssize_t n = ::sendmsg(sock, &m, MSG_NOSIGNAL);
    if (n == ssize_t(data.size())) return true;
    if (n < 0 && errno == EINTR) continue;
    error = n < 0 ? errno_text("sendmsg") : "sendmsg sent part of a message";
    return false;
  }
}

Received receive_message(int sock, FdMessage& out, std::string& error) {
  std::string buf(kMaxMessage, '\0');
  iovec iov{buf.data(), buf.size()};
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  m.msg_control = control;
  m.msg_controllen = sizeof control;
  ssize_t n;
  do n = ::recvmsg(sock, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Received::WouldBlock;
    error = errno_text("recvmsg");
    return Received::Error;
  }
  out = FdMessage{};
  for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      out.fds.push_back(fd);
    }
  }
  if (n == 0) return Received::Closed;
  if (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
    for (int fd : out.fds) ::close(fd);
    out.fds.clear();
    error = "a takeover message arrived cut short";
    return Received::Error;
  }
  out.kind = buf[0];
  out.payload.assign(buf.data() + 1, size_t(n) - 1);
  return Received::Message;
}

}  // namespace pgopt::pooler::fleet
