// Loopback sockets for tests that talk below libpq: a plain TCP connection to a port, and a port
// to give pgopt for an endpoint it binds late (metrics, /healthz).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>

namespace pgopt::test {

// A connected TCP socket to 127.0.0.1:port, or -1.
inline int dial(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Whether 127.0.0.1:port can be bound now (0: any port; `bound` gets the one the kernel chose).
inline bool bindable(int port, int* bound = nullptr) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  socklen_t len = sizeof a;
  if (ok && bound && ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) *bound = ntohs(a.sin_port);
  ::close(fd);
  return ok;
}

// A port below the kernel's ephemeral range (ip_local_port_range starts at 32768 here), checked
// free by binding it. An ephemeral port can be taken by an outgoing connection before pgopt, which
// binds its HTTP endpoint late in its startup, gets there (seen once in CI under ASan: "cannot
// listen on 127.0.0.1:40753 for metrics: Address already in use").
inline int quiet_port() {
  static unsigned seed = unsigned(::getpid()) * 2654435761u;
  for (int attempt = 0; attempt < 200; ++attempt) {
    seed = seed * 1103515245u + 12345u;
    const int port = 20000 + int((seed >> 8) % 12000);
    if (bindable(port)) return port;
  }
  int any = 0;
  return bindable(0, &any) ? any : 0;
}

}  // namespace pgopt::test
